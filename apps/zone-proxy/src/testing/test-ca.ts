// A real certificate authority for zone proxy tests: certificates for the proxy's CSRs, the
// module server's link identity and endpoints — real TLS, no mocks.
import { type AltNames, rsaKeyPair, TestRootCa } from '@dc/service-kit/testing';

export class TestCa extends TestRootCa {
  constructor(name = 'DC Zone Proxy Test Root') {
    super(name);
  }

  /** Signs a CSR's key as a server certificate with these SANs. */
  issueForCsr(csrPem: string, sans: AltNames): string {
    return this.sign(this.csrPublicKeyPem(csrPem), 'zone', { serverAuth: true }, sans);
  }

  /** A client certificate and key (e.g. the module server's link identity, or an endpoint's). */
  client(cn: string, uris: string[]): { certPem: string; keyPem: string } {
    const kp = rsaKeyPair();
    return { certPem: this.sign(kp.publicKeyPem, cn, { clientAuth: true }, { uris }), keyPem: kp.privateKeyPem };
  }
}
