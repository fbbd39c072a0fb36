// The broker's test CA: @dc/service-kit's TestRootCa plus what the broker asks of a CA — enrolment
// tokens, endpoint certificates from CSRs, renewal, revocation, gateway server certificates —
// real certificates for real TLS.
import { randomBytes, randomUUID } from 'node:crypto';
import { Unauthenticated } from '@dc/service-kit';
import { type KeyPairPem, rsaKeyPair, TestRootCa, type Validity } from '@dc/service-kit/testing';
import forge from 'node-forge';
import { type CertificateIssuer, type IssuedEndpointCertificate, normaliseSerial, type RevocationList } from '../enrolment/certificate-issuer';

export { type KeyPairPem, rsaKeyPair, type Validity } from '@dc/service-kit/testing';

const { pki } = forge;

/** A CSR as an endpoint makes it: empty subject, the CA writes the client id it assigns. */
export function makeCsr(key: KeyPairPem): string {
  const csr = pki.createCertificationRequest();
  csr.publicKey = pki.publicKeyFromPem(key.publicKeyPem);
  csr.setSubject([]);
  csr.sign(pki.privateKeyFromPem(key.privateKeyPem), forge.md.sha256.create());
  return pki.certificationRequestToPem(csr);
}

export class TestCa extends TestRootCa implements CertificateIssuer, RevocationList {
  private readonly tokens = new Set<string>();
  private readonly revoked = new Set<string>();
  private readonly issuedEndpoints = new Map<string, { serial: string; notAfter: Date }>();
  /** Validity of the next endpoint certificates (default: one day from now). */
  endpointValidity: Validity = {};

  /** A server certificate for the broker (SANs 127.0.0.1, localhost and extra names). */
  serverCertificate(names: string[] = []): { certPem: string; keyPem: string } {
    const kp = rsaKeyPair();
    const certPem = this.sign(kp.publicKeyPem, 'module-server', { serverAuth: true }, { ips: ['127.0.0.1'], dns: ['localhost', ...names] });
    return { certPem, keyPem: kp.privateKeyPem };
  }

  /** GatewayCertificateAuthority: a server certificate for these names (IPs by their shape). */
  async issueServerCertificate(names: readonly string[], validityMs = 86_400_000): Promise<{ certPem: string; keyPem: string }> {
    const kp = rsaKeyPair();
    const isIp = (n: string) => /^[\d.]+$/.test(n);
    const sans = { ips: names.filter(isIp), dns: names.filter((n) => !isIp(n)) };
    const certPem = this.sign(kp.publicKeyPem, names[0] ?? 'module-server', { serverAuth: true }, sans, { notAfter: new Date(Date.now() + validityMs) });
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
    const certPem = this.sign(this.csrPublicKeyPem(csrPem), clientId, { clientAuth: true }, { uris: [`urn:dc:endpoint:${clientId}`] }, validity);
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
}
