// Naming why a connection to the broker failed (SPEC 3.4): which step, and for TLS which cause
// and which side refused — for the next Hello (the broker's diagnosis) and for `doctor`.
import { commonV1 as common } from '@dc/proto';

export type ConnectStep = 'resolve' | 'tcp' | 'tls' | 'hello';

export interface ClassifiedFailure {
  readonly step: ConnectStep;
  readonly tlsCause: common.TlsFailureCause;
  /** 'endpoint' when this side refused the broker's certificate, 'broker' when the broker refused ours. */
  readonly refusedBy?: 'endpoint' | 'broker';
  readonly detail: string;
}

const C = common.TlsFailureCause;

/** Classifies an error text (grpc-js details, or a Node TLS/socket error code and message). */
export function classifyConnectError(text: string, grpcCode?: number): ClassifiedFailure {
  const t = text.toLowerCase();
  const tls = (cause: common.TlsFailureCause, refusedBy: 'endpoint' | 'broker') => ({ step: 'tls' as const, tlsCause: cause, refusedBy, detail: text });
  if (/enotfound|eai_again|getaddrinfo|name resolution|dns resolution/.test(t)) return { step: 'resolve', tlsCause: C.TLS_FAILURE_CAUSE_UNSPECIFIED, detail: text };
  if (/econnrefused|ehostunreach|enetunreach|etimedout|connect timeout|econnreset before secure/.test(t)) return { step: 'tcp', tlsCause: C.TLS_FAILURE_CAUSE_UNSPECIFIED, detail: text };
  // The broker's answer after a completed handshake (gateway refusals are call statuses, code 16).
  if (grpcCode === 16) {
    if (t.includes('revoked')) return tls(C.TLS_FAILURE_CAUSE_CERTIFICATE_REVOKED, 'broker');
    if (t.includes('expired')) return tls(C.TLS_FAILURE_CAUSE_CERTIFICATE_EXPIRED, 'broker');
    if (t.includes('not valid before')) return tls(C.TLS_FAILURE_CAUSE_CLOCK_SKEW, 'broker');
    if (t.includes('not issued by our ca')) return tls(C.TLS_FAILURE_CAUSE_UNKNOWN_CA, 'broker');
    if (t.includes('no client certificate')) return tls(C.TLS_FAILURE_CAUSE_NO_CLIENT_CERTIFICATE, 'broker');
    return tls(C.TLS_FAILURE_CAUSE_OTHER, 'broker');
  }
  // This side checking the broker's certificate.
  if (/certificate has expired|cert_has_expired/.test(t)) return tls(C.TLS_FAILURE_CAUSE_CERTIFICATE_EXPIRED, 'endpoint');
  if (/certificate is not yet valid|cert_not_yet_valid/.test(t)) return tls(C.TLS_FAILURE_CAUSE_CLOCK_SKEW, 'endpoint');
  if (/self[- ]signed|unable to verify|unable to get (local )?issuer|unknown ca|certificate signature failure/.test(t)) {
    return tls(C.TLS_FAILURE_CAUSE_UNKNOWN_CA, t.includes('alert') ? 'broker' : 'endpoint');
  }
  if (/certificate revoked|alert certificate revoked/.test(t)) return tls(C.TLS_FAILURE_CAUSE_CERTIFICATE_REVOKED, 'broker');
  if (/alert certificate expired/.test(t)) return tls(C.TLS_FAILURE_CAUSE_CERTIFICATE_EXPIRED, 'broker');
  if (/alert|handshake|ssl|tls|hostname\/ip does not match|altnames/.test(t)) return tls(C.TLS_FAILURE_CAUSE_OTHER, t.includes('alert') ? 'broker' : 'endpoint');
  return { step: 'hello', tlsCause: C.TLS_FAILURE_CAUSE_UNSPECIFIED, detail: text };
}
