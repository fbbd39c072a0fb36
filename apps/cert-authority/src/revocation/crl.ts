// A real X.509 v2 CRL (RFC 5280 §5) per root, built with forge.asn1 and signed with native crypto.
//
// node-forge has no CRL support, so the structure is assembled here. Consumers hand these CRLs
// to OpenSSL (Node tls `crl`, `openssl verify -crl_check`), which refuses revoked certificates.
import { sign as nativeSign, type KeyObject } from 'node:crypto';
import forge from 'node-forge';
import type { RevocationReason } from '../store/ca-store';
import { derToPem } from '../issuance/x509';

const { asn1, pki } = forge;
const U = asn1.Class.UNIVERSAL;
const T = asn1.Type;

/** RFC 5280 §5.3.1 CRLReason codes. */
export const REASON_CODES: Readonly<Record<RevocationReason, number>> = {
  unspecified: 0,
  'key-compromise': 1,
  'affiliation-changed': 3,
  superseded: 4,
  'cessation-of-operation': 5,
};

export interface CrlEntry {
  readonly serialHex: string;
  readonly revokedAt: Date;
  readonly reason: RevocationReason;
}

export interface CrlSpec {
  readonly issuerAttributes: forge.pki.CertificateField[];
  /** The issuing root's subject key identifier (binary string). */
  readonly issuerKeyId: string;
  readonly issuerKey: KeyObject;
  /** CRL number: the revocation list's generation. */
  readonly crlNumber: number;
  readonly thisUpdate: Date;
  readonly nextUpdate: Date;
  readonly entries: readonly CrlEntry[];
}

export function buildCrl(spec: CrlSpec): { pem: string; der: Buffer } {
  const sigAlg = () =>
    asn1.create(U, T.SEQUENCE, true, [
      asn1.create(U, T.OID, false, asn1.oidToDer(pki.oids.sha256WithRSAEncryption!).getBytes()),
      asn1.create(U, T.NULL, false, ''),
    ]);
  const tbsParts: forge.asn1.Asn1[] = [
    asn1.create(U, T.INTEGER, false, asn1.integerToDer(1).getBytes()), // v2
    sigAlg(),
    pki.distinguishedNameToAsn1({ attributes: spec.issuerAttributes } as forge.pki.Certificate['subject']),
    time(spec.thisUpdate),
    time(spec.nextUpdate),
  ];
  if (spec.entries.length > 0) {
    tbsParts.push(
      asn1.create(
        U,
        T.SEQUENCE,
        true,
        spec.entries.map((e) =>
          asn1.create(U, T.SEQUENCE, true, [
            asn1.create(U, T.INTEGER, false, forge.util.hexToBytes(e.serialHex)),
            time(e.revokedAt),
            asn1.create(U, T.SEQUENCE, true, [
              extension('2.5.29.21', asn1.create(U, T.ENUMERATED, false, String.fromCharCode(REASON_CODES[e.reason]))),
            ]),
          ]),
        ),
      ),
    );
  }
  const aki = asn1.create(U, T.SEQUENCE, true, [asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, false, spec.issuerKeyId)]);
  const crlNumber = asn1.create(U, T.INTEGER, false, asn1.integerToDer(spec.crlNumber).getBytes());
  tbsParts.push(
    asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, true, [
      asn1.create(U, T.SEQUENCE, true, [extension('2.5.29.35', aki), extension('2.5.29.20', crlNumber)]),
    ]),
  );
  const tbs = asn1.create(U, T.SEQUENCE, true, tbsParts);
  const tbsDer = Buffer.from(asn1.toDer(tbs).getBytes(), 'binary');
  const signature = nativeSign('sha256', tbsDer, spec.issuerKey);
  const crl = asn1.create(U, T.SEQUENCE, true, [
    tbs,
    sigAlg(),
    asn1.create(U, T.BITSTRING, false, String.fromCharCode(0) + signature.toString('binary')),
  ]);
  const der = Buffer.from(asn1.toDer(crl).getBytes(), 'binary');
  return { pem: derToPem(der, 'X509 CRL'), der };
}

function extension(oid: string, value: forge.asn1.Asn1): forge.asn1.Asn1 {
  return asn1.create(U, T.SEQUENCE, true, [
    asn1.create(U, T.OID, false, asn1.oidToDer(oid).getBytes()),
    asn1.create(U, T.OCTETSTRING, false, asn1.toDer(value).getBytes()),
  ]);
}

/** UTCTime until 2049, GeneralizedTime after (RFC 5280 §5.1.2.4). */
function time(date: Date): forge.asn1.Asn1 {
  return date.getUTCFullYear() < 2050
    ? asn1.create(U, T.UTCTIME, false, asn1.dateToUtcTime(date))
    : asn1.create(U, T.GENERALIZEDTIME, false, asn1.dateToGeneralizedTime(date));
}
