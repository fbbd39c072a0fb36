// A real certificate authority for zone link tests (node-forge + native RSA keys): zone proxy
// certificates from the proxy's CSRs, the module server's link client certificate, endpoint
// certificates, and revocation — real certificates for real TLS, not a mock.
import { rsaKeyPair, TestRootCa } from '@dc/service-kit/testing';
import forge from 'node-forge';
import type { ZoneCertificateAuthority } from '../zone-proxy-directory';

export class ZoneTestCa extends TestRootCa implements ZoneCertificateAuthority {
  private readonly revoked: string[] = [];
  private version = 0;
  readonly issued: Array<{ facing: string; zoneProxyName: string; dnsNames: string[]; ipAddresses: string[] }> = [];

  constructor() {
    super('DC Zone Test Root');
  }

  async issueZoneProxyCertificate(req: { facing: 'endpoint' | 'link'; zoneProxyName: string; csrPem: string; dnsNames: string[]; ipAddresses: string[] }) {
    const publicKeyPem = this.csrPublicKeyPem(req.csrPem);
    this.issued.push({ facing: req.facing, zoneProxyName: req.zoneProxyName, dnsNames: req.dnsNames, ipAddresses: req.ipAddresses });
    const sans = { dns: req.dnsNames, ips: req.ipAddresses, uris: [`urn:dc:zone-proxy:${req.zoneProxyName}`] };
    const pem = this.sign(publicKeyPem, req.dnsNames[0] ?? req.zoneProxyName, { serverAuth: true }, sans);
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
    const kp = rsaKeyPair();
    const pem = this.sign(kp.publicKeyPem, 'module-server', { clientAuth: true }, { uris: ['urn:dc:service:module-server'] });
    return { certificateChainPem: pem, privateKeyPem: kp.privateKeyPem, trustBundlePem: this.rootPem };
  }

  /** A server certificate for 127.0.0.1 / localhost (e.g. a direct gateway in the bench). */
  serverCertificate(): { certPem: string; keyPem: string } {
    const kp = rsaKeyPair();
    const pem = this.sign(kp.publicKeyPem, 'localhost', { serverAuth: true }, { dns: ['localhost'], ips: ['127.0.0.1'] });
    return { certPem: pem, keyPem: kp.privateKeyPem };
  }

  /** An endpoint's client certificate, as SignCsr would issue it. */
  endpoint(clientId: string): { certPem: string; keyPem: string; serial: string } {
    const kp = rsaKeyPair();
    const pem = this.sign(kp.publicKeyPem, clientId, { clientAuth: true }, { uris: [`urn:dc:endpoint:${clientId}`] });
    return { certPem: pem, keyPem: kp.privateKeyPem, serial: forge.pki.certificateFromPem(pem).serialNumber.replace(/^0+/, '') };
  }

  revoke(serialHex: string): void {
    this.revoked.push(serialHex.toLowerCase().replace(/^0+/, ''));
    this.version++;
  }
}
