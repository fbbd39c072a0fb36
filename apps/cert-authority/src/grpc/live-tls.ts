// TLS server credentials whose trust bundle and identity can change while serving (root rotation).
import { experimental, type ServerCredentials } from '@grpc/grpc-js';

type CaListener = (update: { caCertificate: Buffer } | null) => void;
type IdentityListener = (update: { certificate: Buffer; privateKey: Buffer } | null) => void;

/**
 * Requests a client certificate but does not require one: GetTrustBundle and GetRevocationList
 * are public, every other rpc checks the caller (grpc/caller-auth.ts). grpc-js exposes a peer
 * certificate to handlers only when it verified against the trust bundle.
 */
export class LiveTlsCredentials {
  private ca: { caCertificate: Buffer };
  private identity: { certificate: Buffer; privateKey: Buffer };
  private readonly caListeners = new Set<CaListener>();
  private readonly identityListeners = new Set<IdentityListener>();
  readonly credentials: ServerCredentials;

  constructor(trustBundlePem: string, certPem: string, keyPem: string) {
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

  updateTrustBundle(pem: string): void {
    this.ca = { caCertificate: Buffer.from(pem) };
    for (const l of this.caListeners) l(this.ca);
  }

  updateIdentity(certPem: string, keyPem: string): void {
    this.identity = { certificate: Buffer.from(certPem), privateKey: Buffer.from(keyPem) };
    for (const l of this.identityListeners) l(this.identity);
  }
}
