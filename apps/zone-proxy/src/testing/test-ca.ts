// A real certificate authority for zone proxy tests (node-forge + native RSA keys): certificates
// for the proxy's CSRs, the module server's link identity and endpoints — real TLS, no mocks.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import forge from 'node-forge';

const { pki } = forge;

export function rsaKey(): { privateKeyPem: string; publicKeyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
}

export class TestCa {
  readonly rootPem: string;
  private readonly rootCert: forge.pki.Certificate;
  private readonly rootKey: forge.pki.rsa.PrivateKey;

  constructor(name = 'DC Zone Proxy Test Root') {
    const kp = rsaKey();
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

  /** Signs a CSR's key as a server certificate with these SANs. */
  issueForCsr(csrPem: string, sans: { dns?: string[]; ips?: string[]; uris?: string[] }): string {
    const csr = pki.certificationRequestFromPem(csrPem);
    return this.sign(pki.publicKeyToPem(csr.publicKey as forge.pki.PublicKey), 'zone', { serverAuth: true }, sans);
  }

  /** A client certificate and key (e.g. the module server's link identity, or an endpoint's). */
  client(cn: string, uris: string[]): { certPem: string; keyPem: string } {
    const kp = rsaKey();
    return { certPem: this.sign(kp.publicKeyPem, cn, { clientAuth: true }, { uris }), keyPem: kp.privateKeyPem };
  }

  private sign(publicKeyPem: string, cn: string, eku: { serverAuth?: boolean; clientAuth?: boolean }, sans: { dns?: string[]; ips?: string[]; uris?: string[] }): string {
    const cert = pki.createCertificate();
    cert.publicKey = pki.publicKeyFromPem(publicKeyPem);
    cert.serialNumber = serial();
    cert.validity.notBefore = new Date(Date.now() - 60_000);
    cert.validity.notAfter = new Date(Date.now() + 86_400_000);
    cert.setSubject([{ name: 'commonName', value: cn }]);
    cert.setIssuer(this.rootCert.subject.attributes);
    const altNames = [...(sans.dns ?? []).map((value) => ({ type: 2, value })), ...(sans.ips ?? []).map((ip) => ({ type: 7, ip })), ...(sans.uris ?? []).map((value) => ({ type: 6, value }))];
    cert.setExtensions([
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', ...eku },
      ...(altNames.length ? [{ name: 'subjectAltName', altNames }] : []),
    ]);
    cert.sign(this.rootKey, forge.md.sha256.create());
    return pki.certificateToPem(cert);
  }
}

function serial(): string {
  const b = randomBytes(16);
  b[0] = (b[0]! & 0x7f) | 0x10;
  return b.toString('hex');
}
