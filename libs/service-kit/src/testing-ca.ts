// A real root CA for tests (node-forge builds, native RSA keys): the root and certificates it
// signs, for real TLS in tests of every app. Each app's test CA adds what its tests ask of a CA
// (tokens, revocation, zone proxy certificates) on top of this one.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import forge from 'node-forge';

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

export interface Validity {
  readonly notBefore?: Date;
  readonly notAfter?: Date;
}

/** Subject alternative names: DNS names, IP addresses and URIs. */
export interface AltNames {
  readonly dns?: readonly string[];
  readonly ips?: readonly string[];
  readonly uris?: readonly string[];
}

export class TestRootCa {
  readonly rootPem: string;
  private readonly rootCert: forge.pki.Certificate;
  private readonly rootKey: forge.pki.rsa.PrivateKey;

  constructor(readonly name = 'DC Test Root') {
    const kp = rsaKeyPair();
    this.rootKey = pki.privateKeyFromPem(kp.privateKeyPem) as forge.pki.rsa.PrivateKey;
    const cert = pki.createCertificate();
    cert.publicKey = pki.publicKeyFromPem(kp.publicKeyPem);
    cert.serialNumber = randomSerial();
    cert.validity.notBefore = new Date(Date.now() - 3600_000);
    cert.validity.notAfter = new Date(Date.now() + 10 * 86_400_000);
    cert.setSubject([{ name: 'commonName', value: name }]);
    cert.setIssuer([{ name: 'commonName', value: name }]);
    cert.setExtensions([{ name: 'basicConstraints', cA: true, critical: true }, { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true }]);
    cert.sign(this.rootKey, forge.md.sha256.create());
    this.rootCert = cert;
    this.rootPem = pki.certificateToPem(cert);
  }

  /** A leaf certificate for this public key (default validity: a minute ago to a day from now). */
  sign(publicKeyPem: string, cn: string, eku: { serverAuth?: boolean; clientAuth?: boolean }, sans: AltNames, validity: Validity = {}): string {
    const cert = pki.createCertificate();
    cert.publicKey = pki.publicKeyFromPem(publicKeyPem);
    cert.serialNumber = randomSerial();
    cert.validity.notBefore = validity.notBefore ?? new Date(Date.now() - 60_000);
    cert.validity.notAfter = validity.notAfter ?? new Date(Date.now() + 86_400_000);
    cert.setSubject([{ name: 'commonName', value: cn }]);
    cert.setIssuer(this.rootCert.subject.attributes);
    const altNames = [...(sans.dns ?? []).map((value) => ({ type: 2, value })), ...(sans.ips ?? []).map((ip) => ({ type: 7, ip })), ...(sans.uris ?? []).map((value) => ({ type: 6, value }))];
    cert.setExtensions([
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', ...eku },
      ...(altNames.length > 0 ? [{ name: 'subjectAltName', altNames }] : []),
    ]);
    cert.sign(this.rootKey, forge.md.sha256.create());
    return pki.certificateToPem(cert);
  }

  /** The public key of a CSR, once its signature verifies. */
  csrPublicKeyPem(csrPem: string): string {
    const csr = pki.certificationRequestFromPem(csrPem);
    if (!csr.verify()) throw new Error('CSR signature does not verify');
    return pki.publicKeyToPem(csr.publicKey as forge.pki.PublicKey);
  }
}

/** Positive, 16 bytes, as CAs do. */
function randomSerial(): string {
  const b = randomBytes(16);
  b[0] = (b[0]! & 0x7f) | 0x10;
  return b.toString('hex');
}
