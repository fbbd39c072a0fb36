// A real certificate authority for tests (node-forge + native RSA keys): a root, a server
// certificate for 127.0.0.1/localhost, and endpoint certificates from CSRs with enrolment
// tokens — real certificates for real TLS, until the cert-authority app is wired in.
import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { Unauthenticated } from '@dc/service-kit';
import forge from 'node-forge';
import { type CertificateIssuer, type IssuedEndpointCertificate, normaliseSerial, type RevocationList } from '../enrolment/certificate-issuer';

const { pki } = forge;

export interface KeyPairPem {
  readonly privateKeyPem: string;
  readonly publicKeyPem: string;
}

export function rsaKeyPair(): KeyPairPem {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

/** A CSR as an endpoint makes it: empty subject, the CA writes the client id it assigns. */
export function makeCsr(key: KeyPairPem): string {
  const csr = pki.createCertificationRequest();
  csr.publicKey = pki.publicKeyFromPem(key.publicKeyPem);
  csr.setSubject([]);
  csr.sign(pki.privateKeyFromPem(key.privateKeyPem), forge.md.sha256.create());
  return pki.certificationRequestToPem(csr);
}

export interface Validity {
  readonly notBefore?: Date;
  readonly notAfter?: Date;
}

export class TestCa implements CertificateIssuer, RevocationList {
  readonly rootPem: string;
  private readonly rootCert: forge.pki.Certificate;
  private readonly rootKey: forge.pki.rsa.PrivateKey;
  private readonly tokens = new Set<string>();
  private readonly revoked = new Set<string>();
  private readonly issuedEndpoints = new Map<string, { serial: string; notAfter: Date }>();
  /** Validity of the next endpoint certificates (default: one day from now). */
  endpointValidity: Validity = {};

  constructor(readonly name = 'DC Test Root') {
    const kp = rsaKeyPair();
    this.rootKey = pki.privateKeyFromPem(kp.privateKeyPem) as forge.pki.rsa.PrivateKey;
    const cert = pki.createCertificate();
    cert.publicKey = pki.publicKeyFromPem(kp.publicKeyPem);
    cert.serialNumber = serial();
    cert.validity.notBefore = new Date(Date.now() - 3600_000);
    cert.validity.notAfter = new Date(Date.now() + 10 * 86_400_000);
    cert.setSubject([{ name: 'commonName', value: name }]);
    cert.setIssuer([{ name: 'commonName', value: name }]);
    cert.setExtensions([{ name: 'basicConstraints', cA: true, critical: true }, { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true }]);
    cert.sign(this.rootKey, forge.md.sha256.create());
    this.rootCert = cert;
    this.rootPem = pki.certificateToPem(cert);
  }

  /** A server certificate for the broker (SANs 127.0.0.1, localhost and extra names). */
  serverCertificate(names: string[] = []): { certPem: string; keyPem: string } {
    const kp = rsaKeyPair();
    const alt = [{ type: 7, ip: '127.0.0.1' }, { type: 2, value: 'localhost' }, ...names.map((n) => ({ type: 2, value: n }))];
    const certPem = this.sign(kp.publicKeyPem, 'module-server', { serverAuth: true }, alt, {});
    return { certPem, keyPem: kp.privateKeyPem };
  }

  /** GatewayCertificateAuthority: a server certificate for these names (IPs by their shape). */
  async issueServerCertificate(names: readonly string[], validityMs = 86_400_000): Promise<{ certPem: string; keyPem: string }> {
    const kp = rsaKeyPair();
    const alt = names.map((n) => (/^[\d.]+$/.test(n) ? { type: 7, ip: n } : { type: 2, value: n }));
    const certPem = this.sign(kp.publicKeyPem, names[0] ?? 'module-server', { serverAuth: true }, alt, { notAfter: new Date(Date.now() + validityMs) });
    return { certPem, keyPem: kp.privateKeyPem };
  }

  /** GatewayCertificateAuthority: endpoint certificates this CA issued, not revoked, expiring before `before`. */
  async countEndpointCertificatesExpiringBefore(before: Date): Promise<number> {
    return [...this.issuedEndpoints.values()].filter((c) => !this.isRevoked(c.serial) && c.notAfter.getTime() > Date.now() && c.notAfter < before).length;
  }

  /** An enrolment token the CA will accept once. */
  createEnrolmentToken(): string {
    const t = randomBytes(24).toString('base64url');
    this.tokens.add(t);
    return t;
  }

  /** A client certificate for a given client id, e.g. an expired one (for refusal tests). */
  issueEndpoint(clientId: string, csrPem: string, validity: Validity = this.endpointValidity): IssuedEndpointCertificate {
    const csr = pki.certificationRequestFromPem(csrPem);
    if (!csr.verify()) throw new Error('CSR signature does not verify');
    const pubPem = pki.publicKeyToPem(csr.publicKey as forge.pki.PublicKey);
    const certPem = this.sign(pubPem, clientId, { clientAuth: true }, [{ type: 6, value: `urn:dc:endpoint:${clientId}` }], validity);
    const cert = pki.certificateFromPem(certPem);
    this.issuedEndpoints.set(normaliseSerial(cert.serialNumber), { serial: normaliseSerial(cert.serialNumber), notAfter: cert.validity.notAfter });
    return { clientId, certificateChainPem: certPem, trustBundlePem: this.rootPem, serial: normaliseSerial(cert.serialNumber), notAfter: cert.validity.notAfter };
  }

  async enrolEndpoint(req: { csrPem: string; enrolmentToken: string; hostName: string }): Promise<IssuedEndpointCertificate> {
    if (!this.tokens.delete(req.enrolmentToken)) throw new Unauthenticated('enrolment token is unknown, used or expired');
    return this.issueEndpoint(randomUUID(), req.csrPem);
  }

  async renewEndpoint(req: { clientId: string; currentSerial: string; csrPem: string }): Promise<IssuedEndpointCertificate> {
    return this.issueEndpoint(req.clientId, req.csrPem);
  }

  revoke(serialHex: string): void {
    this.revoked.add(normaliseSerial(serialHex));
  }

  isRevoked(serialHex: string): boolean {
    return this.revoked.has(normaliseSerial(serialHex));
  }

  private sign(publicKeyPem: string, cn: string, eku: { serverAuth?: boolean; clientAuth?: boolean }, altNames: object[], validity: Validity): string {
    const cert = pki.createCertificate();
    cert.publicKey = pki.publicKeyFromPem(publicKeyPem);
    cert.serialNumber = serial();
    cert.validity.notBefore = validity.notBefore ?? new Date(Date.now() - 60_000);
    cert.validity.notAfter = validity.notAfter ?? new Date(Date.now() + 86_400_000);
    cert.setSubject([{ name: 'commonName', value: cn }]);
    cert.setIssuer(this.rootCert.subject.attributes);
    cert.setExtensions([
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', ...eku },
      { name: 'subjectAltName', altNames },
    ]);
    cert.sign(this.rootKey, forge.md.sha256.create());
    return pki.certificateToPem(cert);
  }
}

function serial(): string {
  // Positive, 16 bytes, as CAs do.
  const b = randomBytes(16);
  b[0] = (b[0]! & 0x7f) | 0x10;
  return b.toString('hex');
}
