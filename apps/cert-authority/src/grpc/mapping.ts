// Conversions between dc.ca.v1 messages and the CA's domain values; nothing else lives here.
import { X509Certificate } from 'node:crypto';
import { InvalidArgument } from '@dc/service-kit';
import { caV1, type Duration } from '@dc/proto';
import type { CertificateKind } from '../issuance/profiles';
import type { CertificateRecord, EnrolmentTokenRecord, RevocationReason, RootRecord } from '../store/ca-store';

const P = caV1.CertificatePurpose;
const R = caV1.RevocationReason;

const KIND_OF_PURPOSE = new Map<caV1.CertificatePurpose, CertificateKind>([
  [P.CERTIFICATE_PURPOSE_SERVER, 'server'],
  [P.CERTIFICATE_PURPOSE_CLIENT, 'client'],
  [P.CERTIFICATE_PURPOSE_ENDPOINT, 'endpoint'],
  [P.CERTIFICATE_PURPOSE_ZONE_PROXY_ENDPOINT_FACING, 'zone-proxy-endpoint'],
  [P.CERTIFICATE_PURPOSE_ZONE_PROXY_LINK_FACING, 'zone-proxy-link'],
  [P.CERTIFICATE_PURPOSE_SERVICE, 'service'],
]);
const PURPOSE_OF_KIND = new Map([...KIND_OF_PURPOSE].map(([p, k]) => [k, p]));

const REASONS: ReadonlyArray<[caV1.RevocationReason, RevocationReason]> = [
  [R.REVOCATION_REASON_UNSPECIFIED, 'unspecified'],
  [R.REVOCATION_REASON_KEY_COMPROMISE, 'key-compromise'],
  [R.REVOCATION_REASON_AFFILIATION_CHANGED, 'affiliation-changed'],
  [R.REVOCATION_REASON_SUPERSEDED, 'superseded'],
  [R.REVOCATION_REASON_CESSATION_OF_OPERATION, 'cessation-of-operation'],
];

/** A purpose from a request; `allowUnspecified` for filters where UNSPECIFIED means "all". */
export function kindFromPurpose(purpose: caV1.CertificatePurpose, field = 'purpose'): CertificateKind {
  const kind = KIND_OF_PURPOSE.get(purpose);
  if (!kind) throw new InvalidArgument(field, 'must be one of SERVER, CLIENT, ENDPOINT, ZONE_PROXY_ENDPOINT_FACING, ZONE_PROXY_LINK_FACING, SERVICE', purpose);
  return kind;
}

export function reasonFromProto(reason: caV1.RevocationReason): RevocationReason {
  const found = REASONS.find(([p]) => p === reason);
  if (!found) throw new InvalidArgument('reason', 'must be a RevocationReason value', reason);
  return found[1];
}

export function reasonToProto(reason: RevocationReason): caV1.RevocationReason {
  return REASONS.find(([, r]) => r === reason)?.[0] ?? R.REVOCATION_REASON_UNSPECIFIED;
}

/** A Duration as milliseconds; undefined when unset. */
export function durationMs(field: string, d: Duration | undefined): number | undefined {
  if (!d || (d.seconds === 0 && d.nanos === 0)) return undefined;
  const ms = d.seconds * 1000 + Math.floor(d.nanos / 1e6);
  if (!Number.isFinite(ms) || ms <= 0) throw new InvalidArgument(field, 'must be a positive duration', `${d.seconds}s`);
  return ms;
}

export function fingerprintSha256(pem: string): string {
  return new X509Certificate(pem).fingerprint256.replace(/:/g, '').toLowerCase();
}

export function certificateToProto(c: CertificateRecord, rootSerial: (rootId: string) => string): caV1.Certificate {
  const x = new X509Certificate(c.certificatePem);
  return {
    serial: c.serial,
    purpose: PURPOSE_OF_KIND.get(c.kind) ?? P.CERTIFICATE_PURPOSE_UNSPECIFIED,
    subject: x.subject.split('\n').join(', '),
    dnsNames: [...c.altNames.dnsNames],
    ipAddresses: [...c.altNames.ipAddresses],
    notBefore: c.notBefore,
    notAfter: c.notAfter,
    revoked: c.revocation !== undefined,
    revokeTime: c.revocation?.revokedAt,
    revocationReason: c.revocation ? reasonToProto(c.revocation.reason) : R.REVOCATION_REASON_UNSPECIFIED,
    clientId: c.kind === 'endpoint' ? c.subjectName : '',
    fingerprintSha256: x.fingerprint256.replace(/:/g, '').toLowerCase(),
    issuerSerial: rootSerial(c.issuerRootId),
    renewedFromSerial: c.renewedFrom ?? '',
    certificatePem: c.certificatePem,
    label: c.label,
  };
}

export function tokenToProto(t: EnrolmentTokenRecord): caV1.EnrolmentToken {
  return {
    tokenId: t.id,
    kind: t.kind === 'one-time' ? caV1.EnrolmentTokenKind.ENROLMENT_TOKEN_KIND_ONE_TIME : caV1.EnrolmentTokenKind.ENROLMENT_TOKEN_KIND_TIME_LIMITED,
    label: t.label,
    createTime: t.createdAt,
    expireTime: t.expiresAt,
    maxUses: t.maxUses,
    uses: t.uses,
    revoked: t.revokedAt !== undefined,
    lastUsedTime: t.lastUsedAt,
  };
}

export function rootToProto(r: RootRecord, activeId: string): caV1.RootCertificate {
  return {
    serial: r.serial,
    state: r.id === activeId ? caV1.RootState.ROOT_STATE_ACTIVE : caV1.RootState.ROOT_STATE_RETIRING,
    notBefore: r.notBefore,
    notAfter: r.notAfter,
    retireTime: r.retireAt,
    fingerprintSha256: fingerprintSha256(r.certificatePem),
    certificatePem: r.certificatePem,
  };
}
