// Builds X.509 certificates with node-forge and signs their TBS bytes with Node's native crypto.
//
// node-forge signs in pure JavaScript (~27 ms per RSA-2048 signature); native crypto.sign takes
// well under 1 ms. So forge builds the TBSCertificate, native crypto signs the DER, and forge
// assembles the final Certificate structure around the signature.
import { randomBytes, sign as nativeSign, type KeyObject } from 'node:crypto';
import forge from 'node-forge';
import type { Purpose } from './profiles';

const { pki, asn1 } = forge;

export interface SubjectName {
  readonly commonName: string;
  readonly organization?: string;
  readonly organizationalUnit?: string;
}

export interface SubjectAltNames {
  readonly dnsNames: readonly string[];
  readonly ipAddresses: readonly string[];
  readonly uris: readonly string[];
}

export const NO_ALT_NAMES: SubjectAltNames = { dnsNames: [], ipAddresses: [], uris: [] };

/** Everything that goes into one certificate. */
export interface CertificateSpec {
  readonly serialHex: string;
  readonly subject: SubjectName;
  readonly altNames: SubjectAltNames;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly publicKey: forge.pki.rsa.PublicKey;
  /** A CA certificate (root) or a leaf with the given purpose. */
  readonly role: { readonly ca: true } | { readonly ca: false; readonly purpose: Purpose };
}

/** The signer: the root's parsed certificate (for the issuer name and key id) and its private key. */
export interface Signer {
  readonly subjectAttributes: forge.pki.CertificateField[];
  /** The signer's subject key identifier as a binary string; undefined only when self-signing. */
  readonly subjectKeyId: string | undefined;
  readonly privateKey: KeyObject;
}

export interface BuiltCertificate {
  readonly pem: string;
  readonly der: Buffer;
  /** The subject key identifier written into the certificate (binary string). */
  readonly subjectKeyId: string;
}

/** A positive 128-bit random serial number as lower-case hex (RFC 5280 §4.1.2.2: at most 20 octets). */
export function randomSerialHex(random: (n: number) => Buffer = randomBytes): string {
  const bytes = random(16);
  // Positive and minimally encoded: top bit clear, first byte non-zero.
  bytes[0] = bytes[0]! & 0x7f || 0x01;
  return bytes.toString('hex');
}

/** Builds the certificate with forge (no signature yet). */
export function buildCertificate(spec: CertificateSpec, signer: Signer | 'self'): forge.pki.Certificate {
  const cert = pki.createCertificate();
  cert.serialNumber = spec.serialHex;
  cert.publicKey = spec.publicKey;
  cert.validity.notBefore = spec.notBefore;
  cert.validity.notAfter = spec.notAfter;
  const subject = subjectAttributes(spec.subject);
  cert.setSubject(subject);
  cert.setIssuer(signer === 'self' ? subject : signer.subjectAttributes);

  const ownKeyId = cert.generateSubjectKeyIdentifier().getBytes();
  const authorityKeyId = signer === 'self' ? ownKeyId : signer.subjectKeyId;
  const extensions: object[] = [];
  if (spec.role.ca) {
    extensions.push(
      { name: 'basicConstraints', critical: true, cA: true },
      { name: 'keyUsage', critical: true, keyCertSign: true, cRLSign: true },
    );
  } else {
    const purpose = spec.role.purpose;
    extensions.push(
      { name: 'basicConstraints', critical: true, cA: false },
      { name: 'keyUsage', critical: true, digitalSignature: true, keyEncipherment: true },
      {
        name: 'extKeyUsage',
        serverAuth: purpose === 'server' || purpose === 'server-and-client',
        clientAuth: purpose === 'client' || purpose === 'server-and-client',
      },
    );
    const altNames = [
      ...spec.altNames.dnsNames.map((value) => ({ type: 2, value })),
      ...spec.altNames.ipAddresses.map((ip) => ({ type: 7, ip })),
      ...spec.altNames.uris.map((value) => ({ type: 6, value })),
    ];
    if (altNames.length > 0) extensions.push({ name: 'subjectAltName', altNames });
  }
  // forge computes the key id (SHA-1 of the public key, RFC 5280 §4.2.1.2 method 1).
  extensions.push({ name: 'subjectKeyIdentifier' });
  if (authorityKeyId !== undefined) extensions.push({ name: 'authorityKeyIdentifier', keyIdentifier: authorityKeyId });
  cert.setExtensions(extensions);
  return cert;
}

/** Signs a forge certificate's TBS bytes with native crypto (SHA-256 with RSA) and encodes it. */
export function signNative(cert: forge.pki.Certificate, privateKey: KeyObject): BuiltCertificate {
  cert.siginfo.algorithmOid = pki.oids.sha256WithRSAEncryption!;
  (cert as { signatureOid: string }).signatureOid = pki.oids.sha256WithRSAEncryption!;
  const tbs = (pki as unknown as { getTBSCertificate(c: forge.pki.Certificate): forge.asn1.Asn1 }).getTBSCertificate(cert);
  const tbsDer = Buffer.from(asn1.toDer(tbs).getBytes(), 'binary');
  const signature = nativeSign('sha256', tbsDer, privateKey);
  // Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue BIT STRING },
  // assembled from the TBS bytes just signed (re-encoding them through forge would cost as much again).
  const der = derSequence([tbsDer, SHA256_WITH_RSA_ALGORITHM_ID, derBitString(signature)]);
  return { pem: derToPem(der, 'CERTIFICATE'), der, subjectKeyId: subjectKeyIdOf(cert) };
}

const SHA256_WITH_RSA_ALGORITHM_ID = Buffer.from(
  asn1
    .toDer(
      asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
        asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OID, false, asn1.oidToDer(pki.oids.sha256WithRSAEncryption!).getBytes()),
        asn1.create(asn1.Class.UNIVERSAL, asn1.Type.NULL, false, ''),
      ]),
    )
    .getBytes(),
  'binary',
);

function derLength(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function derSequence(parts: Buffer[]): Buffer {
  const body = Buffer.concat(parts);
  return Buffer.concat([Buffer.from([0x30]), derLength(body.length), body]);
}

function derBitString(bytes: Buffer): Buffer {
  return Buffer.concat([Buffer.from([0x03]), derLength(bytes.length + 1), Buffer.from([0x00]), bytes]);
}

function subjectKeyIdOf(cert: forge.pki.Certificate): string {
  const ski = cert.getExtension('subjectKeyIdentifier') as { subjectKeyIdentifier?: string } | null;
  return forge.util.hexToBytes(ski?.subjectKeyIdentifier ?? '');
}

/** The slow path, kept for the benchmark baseline: forge signs in JavaScript. */
export function signWithForge(cert: forge.pki.Certificate, privateKey: forge.pki.rsa.PrivateKey): BuiltCertificate {
  cert.sign(privateKey, forge.md.sha256.create());
  return encode(cert);
}

/** Builds and signs in one step. */
export function issueCertificate(spec: CertificateSpec, signer: Signer | 'self', selfKey?: KeyObject): BuiltCertificate {
  const cert = buildCertificate(spec, signer);
  const key = signer === 'self' ? selfKey : signer.privateKey;
  if (!key) throw new Error('self-signing needs the private key');
  return signNative(cert, key);
}

function encode(cert: forge.pki.Certificate): BuiltCertificate {
  const der = Buffer.from(asn1.toDer(pki.certificateToAsn1(cert)).getBytes(), 'binary');
  return { pem: derToPem(der, 'CERTIFICATE'), der, subjectKeyId: subjectKeyIdOf(cert) };
}

export function derToPem(der: Buffer, label: string): string {
  const b64 = der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

export function subjectAttributes(name: SubjectName): forge.pki.CertificateField[] {
  const attrs: forge.pki.CertificateField[] = [];
  if (name.organization) attrs.push({ shortName: 'O', value: name.organization });
  if (name.organizationalUnit) attrs.push({ shortName: 'OU', value: name.organizationalUnit });
  attrs.push({ shortName: 'CN', value: name.commonName });
  return attrs;
}

/** A native public key as a forge RSA key (forge's X.509 code handles RSA only). */
export function forgePublicKey(key: KeyObject): forge.pki.rsa.PublicKey {
  return pki.publicKeyFromPem(key.export({ type: 'spki', format: 'pem' }).toString()) as forge.pki.rsa.PublicKey;
}
