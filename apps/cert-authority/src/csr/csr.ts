// PKCS#10 certificate signing requests: parse, check the proof of possession, refuse names the CA decides.
import { createPublicKey, verify as nativeVerify } from 'node:crypto';
import { InvalidArgument } from '@dc/service-kit';
import forge from 'node-forge';

const { pki, asn1 } = forge;

/** A CSR whose signature verified: the requester holds the private key of `publicKey`. */
export interface VerifiedCsr {
  readonly publicKey: forge.pki.rsa.PublicKey;
  /** Subject attributes as `CN=x`, `O=y` ... in order. */
  readonly subject: readonly string[];
  /** Names the CSR asks for in a subjectAltName extension request. */
  readonly requestedAltNames: readonly string[];
}

const HASH_OF_SIGNATURE: Record<string, string> = {
  [pki.oids.sha256WithRSAEncryption!]: 'sha256',
  [pki.oids.sha384WithRSAEncryption!]: 'sha384',
  [pki.oids.sha512WithRSAEncryption!]: 'sha512',
};

export const MIN_RSA_BITS = 2048;
const FIELD = 'csr_pem';

/**
 * Parses a PEM CSR and verifies its self-signature with native crypto (fast; forge would do
 * the RSA verification in JavaScript). Throws InvalidArgument naming the rule broken.
 */
export function parseAndVerifyCsr(pem: string): VerifiedCsr {
  if (typeof pem !== 'string' || !pem.includes('-----BEGIN CERTIFICATE REQUEST-----')) {
    throw new InvalidArgument(FIELD, 'must be a PEM "CERTIFICATE REQUEST" block (PKCS#10)', excerpt(pem));
  }
  let csr: forge.pki.CertificateSigningRequest;
  let spkiDer: Buffer;
  try {
    const der = forge.pem.decode(pem).find((m) => m.type === 'CERTIFICATE REQUEST');
    if (!der) throw new Error('no CERTIFICATE REQUEST block');
    const obj = asn1.fromDer(der.body, true);
    csr = pki.certificationRequestFromAsn1(obj, false);
    // CertificationRequest.certificationRequestInfo.subjectPKInfo, for native crypto.
    const spki = ((obj.value as forge.asn1.Asn1[])[0]!.value as forge.asn1.Asn1[])[2]!;
    spkiDer = Buffer.from(asn1.toDer(spki).getBytes(), 'binary');
  } catch (err) {
    const message = (err as Error).message;
    if (message.includes('OID is not RSA')) {
      throw new InvalidArgument(FIELD, 'the key must be RSA (at least 2048 bits); other key types are not supported', excerpt(pem));
    }
    throw new InvalidArgument(FIELD, `is not a well-formed PKCS#10 certificate request (${message})`, excerpt(pem));
  }
  const publicKey = csr.publicKey as forge.pki.rsa.PublicKey;
  if (publicKey.n.bitLength() < MIN_RSA_BITS) {
    throw new InvalidArgument(FIELD, `the RSA key has ${publicKey.n.bitLength()} bits; at least ${MIN_RSA_BITS} are required`);
  }
  const hash = HASH_OF_SIGNATURE[csr.signatureOid ?? ''];
  if (!hash) {
    const name = pki.oids[csr.signatureOid ?? ''] ?? csr.signatureOid;
    throw new InvalidArgument(FIELD, `signature algorithm ${String(name)} is not accepted (use SHA-256, SHA-384 or SHA-512 with RSA)`);
  }
  const info = csr.certificationRequestInfo;
  if (!info) throw new InvalidArgument(FIELD, 'is not a well-formed PKCS#10 certificate request (no certificationRequestInfo)');
  const signed = Buffer.from(asn1.toDer(info).getBytes(), 'binary');
  const key = createPublicKey({ key: spkiDer, format: 'der', type: 'spki' });
  if (!nativeVerify(hash, signed, key, Buffer.from(csr.signature as string, 'binary'))) {
    throw new InvalidArgument(FIELD, 'signature does not verify: the request was not signed by the private key of the public key it holds');
  }
  return { publicKey, subject: csr.subject.attributes.map((a: forge.pki.CertificateField) => `${a.shortName ?? a.name ?? a.type}=${String(a.value)}`), requestedAltNames: altNamesOf(csr) };
}

/**
 * An endpoint's certificate names exactly one identity, decided by the CA from the enrolment
 * token. The CSR may leave the subject empty or ask for exactly `CN=<that id>`; anything else
 * (another CN, extra attributes, subjectAltNames) asks for a name it may not have.
 */
export function checkEndpointCsrNames(csr: VerifiedCsr, endpointId: string, assignedByCa: boolean): void {
  if (csr.requestedAltNames.length > 0) {
    throw new InvalidArgument(FIELD, 'asks for subjectAltNames; an endpoint certificate carries only the endpoint id the CA assigns', csr.requestedAltNames.join(', '));
  }
  if (csr.subject.length === 0) return;
  const wanted = `CN=${endpointId}`;
  if (csr.subject.length === 1 && csr.subject[0] === wanted && !assignedByCa) return;
  const rule = assignedByCa
    ? 'this enrolment token lets the CA assign the endpoint id, so the CSR subject must be empty'
    : `this enrolment token is for endpoint "${endpointId}", so the CSR subject must be empty or exactly ${wanted}`;
  throw new InvalidArgument(FIELD, `subject asks for a name it may not have: ${rule}`, csr.subject.join(','));
}

function altNamesOf(csr: forge.pki.CertificateSigningRequest): string[] {
  const request = csr.getAttribute({ name: 'extensionRequest' }) as { extensions?: Array<{ name?: string; altNames?: Array<{ value?: string; ip?: string }> }> } | null;
  const san = request?.extensions?.find((e) => e.name === 'subjectAltName');
  return (san?.altNames ?? []).map((n) => n.ip ?? n.value ?? '?');
}

function excerpt(value: unknown): string {
  const text = typeof value === 'string' ? value : String(value);
  return text.length > 60 ? `${text.slice(0, 60)}…` : text;
}
