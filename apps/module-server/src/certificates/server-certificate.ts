// The gateway's server certificate (SPEC 1.4.5): shown with its expiry, renewed from the CA and
// served to new TLS handshakes at once — connected endpoints keep their connections.
import { X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import { checkCertificateKeyPair, FailedPrecondition, InvalidArgument, type LiveServerCredentials, Unavailable, writeFileAtomic } from '@dc/service-kit';
import type { Logger } from 'pino';
import { normaliseSerial } from '../enrolment/certificate-issuer';

/** What renewal and the certificate overview need from the CA (CaClient; TestCa in tests). */
export interface GatewayCertificateAuthority {
  /** A new server certificate (chain PEM) and its key for these DNS names / IP addresses. */
  issueServerCertificate(names: readonly string[], validityMs?: number): Promise<{ certPem: string; keyPem: string }>;
  /** How many endpoint client certificates (valid, not revoked) expire before `before`. */
  countEndpointCertificatesExpiringBefore(before: Date): Promise<number>;
}

export interface CertificateSummary {
  readonly serial: string;
  readonly subject: string;
  readonly dnsNames: string[];
  readonly ipAddresses: string[];
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** SHA-256 of the DER, lowercase hex. */
  readonly fingerprintSha256: string;
}

/** The first certificate of a PEM chain, summarised. */
export function summarise(pem: string): CertificateSummary {
  const x = new X509Certificate(pem);
  const sans = (x.subjectAltName ?? '').split(/,\s*/).filter(Boolean);
  return {
    serial: normaliseSerial(x.serialNumber),
    subject: x.subject.split('\n').join(', '),
    dnsNames: sans.filter((s) => s.startsWith('DNS:')).map((s) => s.slice(4)),
    ipAddresses: sans.filter((s) => s.startsWith('IP Address:')).map((s) => s.slice(11)),
    notBefore: new Date(x.validFrom),
    notAfter: new Date(x.validTo),
    fingerprintSha256: x.fingerprint256.replace(/:/g, '').toLowerCase(),
  };
}

/** Every certificate in a PEM bundle, summarised. */
export function summariseBundle(pem: string): CertificateSummary[] {
  return (pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).map(summarise);
}

/** A CA failure as UNAVAILABLE naming what could not be done (its own code could read as the caller's, e.g. PERMISSION_DENIED). */
async function askCa<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const e = err as { details?: string; message?: string };
    throw new Unavailable(`the certificate authority could not ${what}: ${e.details || e.message || String(err)}`);
  }
}

export interface ServerCertificatesOptions {
  /** The gateway's credentials: renewal swaps the identity for new handshakes only (SPEC 1.4.5). */
  readonly tls: LiveServerCredentials;
  readonly trustBundlePem: string;
  /** The CA to renew from and to count endpoint certificates; absent = renewal refused. */
  readonly ca?: GatewayCertificateAuthority;
  /** Names the gateway certificate carries (config serverNames). */
  readonly names: readonly string[];
  /** Where a renewed certificate is kept (<dataDir>/tls); absent when the operator configured files. */
  readonly tlsDir?: string;
  /** The module server's client identity on zone links (its CA service certificate). */
  readonly linkClientCertPem?: string;
  readonly log: Logger;
}

export const GATEWAY_CERT_FILE = 'gateway.cert.pem';
export const GATEWAY_KEY_FILE = 'gateway.key.pem';
const MAX_VALIDITY_MS = 825 * 86_400_000;

/** SPEC 1.4.5: the certificates in use, and renewal of the gateway's. */
export class ServerCertificates {
  private renewing?: Promise<CertificateSummary>;

  constructor(private readonly opts: ServerCertificatesOptions) {}

  async overview(now: Date): Promise<{ server: CertificateSummary; linkClient?: CertificateSummary; roots: CertificateSummary[]; endpointCertificatesExpiring: number }> {
    const expiring = this.opts.ca ? await askCa('count the endpoint certificates expiring within 30 days', () => this.opts.ca!.countEndpointCertificatesExpiringBefore(new Date(now.getTime() + 30 * 86_400_000))) : 0;
    return {
      server: summarise(this.opts.tls.certPem()),
      linkClient: this.opts.linkClientCertPem ? summarise(this.opts.linkClientCertPem) : undefined,
      roots: summariseBundle(this.opts.trustBundlePem),
      endpointCertificatesExpiring: expiring,
    };
  }

  /** A new gateway certificate from the CA: written (key, then certificate) and served to new handshakes. */
  renew(validityMs?: number): Promise<CertificateSummary> {
    if (validityMs !== undefined && (validityMs <= 0 || validityMs > MAX_VALIDITY_MS)) {
      throw new InvalidArgument('validity', 'must be more than 0 and at most 825 days', `${Math.round(validityMs / 1000)} s`);
    }
    const { ca, tlsDir } = this.opts;
    if (!ca) throw new FailedPrecondition('no certificate authority is configured: the gateway certificate cannot be renewed here');
    if (!tlsDir) throw new FailedPrecondition('the gateway certificate comes from configured files (tls.certFile, tls.keyFile): replace those files and restart instead');
    // One renewal at a time: a second request waits for and reports the first.
    this.renewing ??= (async () => {
      try {
        const issued = await askCa('issue a new gateway certificate', () => ca.issueServerCertificate(this.opts.names, validityMs));
        checkCertificateKeyPair(issued.certPem, issued.keyPem);
        writeFileAtomic(join(tlsDir, GATEWAY_KEY_FILE), issued.keyPem, { mode: 0o600 });
        writeFileAtomic(join(tlsDir, GATEWAY_CERT_FILE), issued.certPem, { mode: 0o644 });
        this.opts.tls.updateIdentity(issued.certPem, issued.keyPem);
        const s = summarise(issued.certPem);
        this.opts.log.info({ serial: s.serial, notAfter: s.notAfter.toISOString(), names: this.opts.names }, 'gateway server certificate renewed; new handshakes use it');
        return s;
      } finally {
        this.renewing = undefined;
      }
    })();
    return this.renewing;
  }
}
