// A real certificate authority for zone link tests (node-forge + native RSA keys): zone proxy
// certificates from the proxy's CSRs, the module server's link client certificate, endpoint
// certificates, and revocation — real certificates for real TLS, not a mock.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import forge from 'node-forge';
import type { ZoneCertificateAuthority } from '../zone-proxy-directory';

const { pki } = forge;

export function rsaKey(): { privateKeyPem: string; publicKeyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
}

export class ZoneTestCa implements ZoneCertificateAuthority {
  readonly rootPem: string;
  private readonly rootCert: forge.pki.Certificate;
  private readonly rootKey: forge.pki.rsa.PrivateKey;
  private readonly revoked: string[] = [];
  private version = 0;
  readonly issued: Array<{ facing: string; zoneProxyName: string; dnsNames: string[]; ipAddresses: string[] }> = [];

  constructor() {
    const kp = rsaKey();
    this.rootKey = pki.privateKeyFromPem(kp.privateKeyPem) as forge.pki.rsa.PrivateKey;
    const cert = pki.createCertificate();
    cert.publicKey = pki.publicKeyFromPem(kp.publicKeyPem);
    cert.serialNumber = serial();
    cert.validity.notBefore = new Date(Date.now() - 3600_000);
    cert.validity.notAfter = new Date(Date.now() + 10 * 86_400_000);
    cert.setSubject([{ name: 'commonName', value: 'DC Zone Test Root' }]);
    cert.setIssuer([{ name: 'commonName', value: 'DC Zone Test Root' }]);
    cert.setExtensions([{ name: 'basicConstraints', cA: true, critical: true }, { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true }]);
    cert.sign(this.rootKey, forge.md.sha256.create());
    this.rootCert = cert;
    this.rootPem = pki.certificateToPem(cert);
  }

  async issueZoneProxyCertificate(req: { facing: 'endpoint' | 'link'; zoneProxyName: string; csrPem: string; dnsNames: string[]; ipAddresses: string[] }) {
    const csr = pki.certificationRequestFromPem(req.csrPem);
    if (!csr.verify()) throw new Error('CSR signature does not verify');
    this.issued.push({ facing: req.facing, zoneProxyName: req.zoneProxyName, dnsNames: req.dnsNames, ipAddresses: req.ipAddresses });
    const alt = [...req.dnsNames.map((value) => ({ type: 2, value })), ...req.ipAddresses.map((ip) => ({ type: 7, ip })), { type: 6, value: `urn:dc:zone-proxy:${req.zoneProxyName}` }];
    const pem = this.sign(pki.publicKeyToPem(csr.publicKey as forge.pki.PublicKey), req.dnsNames[0] ?? req.zoneProxyName, { serverAuth: true }, alt);
    return { certificateChainPem: pem, trustBundlePem: this.rootPem };
  }

  async trustBundle(): Promise<string> {
    return this.rootPem;
  }

  async revocationList(): Promise<{ version: number; serials: string[] }> {
    return { version: this.version, serials: [...this.revoked] };
  }

  /** The module server's client identity on links (purpose CLIENT). */
  moduleServerIdentity(): { certificateChainPem: string; privateKeyPem: string; trustBundlePem: string } {
    const kp = rsaKey();
    const pem = this.sign(kp.publicKeyPem, 'module-server', { clientAuth: true }, [{ type: 6, value: 'urn:dc:service:module-server' }]);
    return { certificateChainPem: pem, privateKeyPem: kp.privateKeyPem, trustBundlePem: this.rootPem };
  }

  /** A server certificate for 127.0.0.1 / localhost (e.g. a direct gateway in the bench). */
  serverCertificate(): { certPem: string; keyPem: string } {
    const kp = rsaKey();
    const pem = this.sign(kp.publicKeyPem, 'localhost', { serverAuth: true }, [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }]);
    return { certPem: pem, keyPem: kp.privateKeyPem };
  }

  /** An endpoint's client certificate, as SignCsr would issue it. */
  endpoint(clientId: string): { certPem: string; keyPem: string; serial: string } {
    const kp = rsaKey();
    const pem = this.sign(kp.publicKeyPem, clientId, { clientAuth: true }, [{ type: 6, value: `urn:dc:endpoint:${clientId}` }]);
    return { certPem: pem, keyPem: kp.privateKeyPem, serial: pki.certificateFromPem(pem).serialNumber.replace(/^0+/, '') };
  }

  revoke(serialHex: string): void {
    this.revoked.push(serialHex.toLowerCase().replace(/^0+/, ''));
    this.version++;
  }

  private sign(publicKeyPem: string, cn: string, eku: { serverAuth?: boolean; clientAuth?: boolean }, altNames: object[]): string {
    const cert = pki.createCertificate();
    cert.publicKey = pki.publicKeyFromPem(publicKeyPem);
    cert.serialNumber = serial();
    cert.validity.notBefore = new Date(Date.now() - 60_000);
    cert.validity.notAfter = new Date(Date.now() + 86_400_000);
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
  const b = randomBytes(16);
  b[0] = (b[0]! & 0x7f) | 0x10;
  return b.toString('hex');
}
