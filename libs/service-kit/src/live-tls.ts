// TLS server credentials whose trust bundle and identity can change while serving: grpc-js
// applies an update to new handshakes only, so connected peers stay connected (renewal, root rotation).
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { experimental, type ServerCredentials } from '@grpc/grpc-js';
import { InvalidArgument } from './errors';

type CaListener = (update: { caCertificate: Buffer } | null) => void;
type IdentityListener = (update: { certificate: Buffer; privateKey: Buffer } | null) => void;

/**
 * A client certificate is requested but not required: services that also serve callers without
 * one (health, public rpcs) check it per call. grpc-js shows handlers a peer certificate only
 * when it verified against the trust bundle.
 */
export class LiveServerCredentials {
  private ca: { caCertificate: Buffer };
  private identity: { certificate: Buffer; privateKey: Buffer };
  private readonly caListeners = new Set<CaListener>();
  private readonly identityListeners = new Set<IdentityListener>();
  readonly credentials: ServerCredentials;

  constructor(trustBundlePem: string, certPem: string, keyPem: string) {
    checkCertificateKeyPair(certPem, keyPem);
    this.ca = { caCertificate: Buffer.from(trustBundlePem) };
    this.identity = { certificate: Buffer.from(certPem), privateKey: Buffer.from(keyPem) };
    const provider = {
      addCaCertificateListener: (l: CaListener) => {
        this.caListeners.add(l);
        // Asynchronously: grpc-js registers its own watcher only after adding the listeners.
        queueMicrotask(() => l(this.ca));
      },
      removeCaCertificateListener: (l: CaListener) => void this.caListeners.delete(l),
      addIdentityCertificateListener: (l: IdentityListener) => {
        this.identityListeners.add(l);
        queueMicrotask(() => l(this.identity));
      },
      removeIdentityCertificateListener: (l: IdentityListener) => void this.identityListeners.delete(l),
    };
    this.credentials = experimental.createCertificateProviderServerCredentials(provider, provider, false);
  }

  /** The certificate (chain) served now. */
  certPem(): string {
    return this.identity.certificate.toString('utf8');
  }

  updateTrustBundle(pem: string): void {
    this.ca = { caCertificate: Buffer.from(pem) };
    for (const l of this.caListeners) l(this.ca);
  }

  /** Refuses a key that does not belong to the certificate, so a bad pair is never served. */
  updateIdentity(certPem: string, keyPem: string): void {
    checkCertificateKeyPair(certPem, keyPem);
    this.identity = { certificate: Buffer.from(certPem), privateKey: Buffer.from(keyPem) };
    for (const l of this.identityListeners) l(this.identity);
  }
}

/** Throws InvalidArgument when the PEM certificate is unreadable or the key is not its own. */
export function checkCertificateKeyPair(certPem: string, keyPem: string): void {
  let x: X509Certificate;
  try {
    x = new X509Certificate(certPem);
  } catch (err) {
    throw new InvalidArgument('certificate', `is not a readable PEM certificate (${(err as Error).message})`);
  }
  let ok = false;
  try {
    ok = x.checkPrivateKey(createPrivateKey(keyPem));
  } catch (err) {
    throw new InvalidArgument('private key', `is not a readable PEM private key (${(err as Error).message})`);
  }
  if (!ok) throw new InvalidArgument('private key', 'does not belong to the certificate');
}
