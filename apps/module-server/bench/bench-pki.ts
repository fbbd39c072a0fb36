// Bench PKI: a root, a server certificate and N endpoint certificates signed natively (forge
// builds the TBS, node:crypto signs it: ~1 ms a certificate instead of ~80 ms in JavaScript).
// Endpoints share a few RSA keys (key generation is the slow part) but each has its own
// certificate and client id, i.e. its own TLS identity.
import { createPrivateKey, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import forge from 'node-forge';

const { pki, asn1 } = forge;

export interface BenchPki {
  rootPem: string;
  server: { certPem: string; keyPem: string };
  keys: string[];
  endpoints: Array<{ clientId: string; certPem: string; keyIndex: number }>;
}

function rsa(): { priv: string; pub: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { priv: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), pub: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
}

function signCert(cert: forge.pki.Certificate, caKeyPem: string): string {
  cert.siginfo.algorithmOid = pki.oids.sha256WithRSAEncryption!;
  cert.signatureOid = pki.oids.sha256WithRSAEncryption!;
  cert.md = forge.md.sha256.create();
  const tbs = (pki as unknown as { getTBSCertificate(c: forge.pki.Certificate): forge.asn1.Asn1 }).getTBSCertificate(cert);
  const der = Buffer.from(asn1.toDer(tbs).getBytes(), 'binary');
  cert.tbsCertificate = tbs;
  cert.signature = sign('sha256', der, createPrivateKey(caKeyPem)).toString('binary');
  return pki.certificateToPem(cert);
}

function base(pubPem: string, cn: string, issuer: forge.pki.CertificateField[], ext: object[]): forge.pki.Certificate {
  const c = pki.createCertificate();
  c.publicKey = pki.publicKeyFromPem(pubPem);
  const b = randomBytes(16);
  b[0] = (b[0]! & 0x7f) | 0x10;
  c.serialNumber = b.toString('hex');
  c.validity.notBefore = new Date(Date.now() - 3600_000);
  c.validity.notAfter = new Date(Date.now() + 7 * 86_400_000);
  c.setSubject([{ name: 'commonName', value: cn }]);
  c.setIssuer(issuer);
  c.setExtensions(ext);
  return c;
}

export function makeBenchPki(n: number, keyCount = 8): BenchPki {
  const root = rsa();
  const rootSubject = [{ name: 'commonName', value: 'DC Bench Root' }];
  const rootCert = base(root.pub, 'DC Bench Root', rootSubject, [{ name: 'basicConstraints', cA: true, critical: true }, { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true }]);
  const rootPem = signCert(rootCert, root.priv);
  const issuer = rootCert.subject.attributes;
  const srv = rsa();
  const serverPem = signCert(base(srv.pub, 'module-server', issuer, [
    { name: 'basicConstraints', cA: false }, { name: 'extKeyUsage', serverAuth: true }, { name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }, { type: 2, value: 'localhost' }] },
  ]), root.priv);
  const keys = Array.from({ length: keyCount }, () => rsa());
  const endpoints = Array.from({ length: n }, (_, i) => {
    const clientId = `bench-${String(i).padStart(6, '0')}`;
    const keyIndex = i % keyCount;
    const certPem = signCert(base(keys[keyIndex]!.pub, clientId, issuer, [
      { name: 'basicConstraints', cA: false }, { name: 'extKeyUsage', clientAuth: true }, { name: 'subjectAltName', altNames: [{ type: 6, value: `urn:dc:endpoint:${clientId}` }] },
    ]), root.priv);
    return { clientId, certPem, keyIndex };
  });
  return { rootPem, server: { certPem: serverPem, keyPem: srv.priv }, keys: keys.map((k) => k.priv), endpoints };
}
