// Test-connection diagnosis (SPEC 1.6, §3.4–3.5): from what the broker knows about an endpoint,
// name the first broken step, with each step checked in the order a connection needs them.
import type { EndpointRecord } from '../registry/endpoint-registry';

export type DiagnosisVerdict =
  | 'UNKNOWN_ENDPOINT'
  | 'NEVER_ENROLLED'
  | 'CERTIFICATE_REVOKED'
  | 'CERTIFICATE_EXPIRED'
  | 'FQDN_UNRESOLVABLE'
  | 'TLS_REFUSED'
  | 'CLOCK_SKEW'
  | 'NEVER_CONNECTED'
  | 'OFFLINE'
  | 'STOPPED'
  | 'REMOVED'
  | 'NOT_CONNECTED'
  | 'TIMEOUT'
  | 'AMBIGUOUS_TARGET'
  | 'REACHABLE';

export interface DiagnosisStep {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

export interface Diagnosis {
  readonly verdict: DiagnosisVerdict;
  /** One sentence for the operator: what broke and what to check next. */
  readonly summary: string;
  readonly steps: readonly DiagnosisStep[];
}

export interface DiagnosisInput {
  readonly target: string;
  readonly endpoint: EndpointRecord | undefined;
  readonly now: number;
  /** Whether the endpoint's current certificate is on the revocation list. */
  readonly revoked: boolean;
  /** The broker's own FQDN lookup (endpoints must resolve it, SPEC 1.4.4); undefined when not checked. */
  readonly fqdn?: { readonly name: string; readonly resolves: boolean; readonly detail: string };
  /** Whether the control channel is attached right now. */
  readonly connected: boolean;
  /** Clock skew above this breaks TLS validity checks (SPEC 3.4). */
  readonly clockSkewToleranceMs: number;
}

const iso = (ms: number) => new Date(ms).toISOString();

export function diagnose(input: DiagnosisInput): Diagnosis {
  const steps: DiagnosisStep[] = [];
  const fail = (verdict: DiagnosisVerdict, name: string, detail: string, summary: string): Diagnosis => {
    steps.push({ name, ok: false, detail });
    return { verdict, summary, steps };
  };
  const pass = (name: string, detail: string) => steps.push({ name, ok: true, detail });

  const e = input.endpoint;
  if (!e) {
    return fail('UNKNOWN_ENDPOINT', 'known endpoint', `no endpoint has client id, IP or computer name "${input.target}"`,
      `unknown endpoint "${input.target}": check the name, and that the endpoint is in the action group and has its Direct Connect package`);
  }
  pass('known endpoint', `${e.hostname || '(no hostname yet)'} (${e.clientId})`);

  if (e.status === 'REMOVED') {
    return fail('REMOVED', 'tools installed', `the endpoint removed its Direct Connect tools at ${iso(e.statusSince)}`,
      `endpoint ${e.clientId} removed its Direct Connect tools at ${iso(e.statusSince)} (Remove Tools / uninstall); reinstall the package to bring it back`);
  }

  if (e.enrolment !== 'ENROLLED') {
    return fail('NEVER_ENROLLED', 'enrolled', e.enrolmentDetail ?? 'the endpoint never completed enrolment',
      `endpoint ${e.clientId} never enrolled${e.enrolmentDetail ? `: ${e.enrolmentDetail}` : ''}; reinstall its package with a valid enrolment token`);
  }
  pass('enrolled', `certificate ${e.certSerial ?? '?'} issued ${e.enrolledAt ? iso(e.enrolledAt) : '?'}`);

  if (input.revoked) {
    return fail('CERTIFICATE_REVOKED', 'certificate valid', `certificate ${e.certSerial ?? '?'} is revoked`,
      `endpoint ${e.clientId}'s certificate is revoked; the broker refuses it — re-enrol the endpoint`);
  }
  if (e.certNotAfter !== null && e.certNotAfter <= input.now) {
    return fail('CERTIFICATE_EXPIRED', 'certificate valid', `certificate ${e.certSerial ?? '?'} expired at ${iso(e.certNotAfter)}`,
      `endpoint ${e.clientId}'s certificate expired at ${iso(e.certNotAfter)}; renew it or re-enrol the endpoint`);
  }
  pass('certificate valid', e.certNotAfter !== null ? `valid until ${iso(e.certNotAfter)}` : 'no expiry recorded');

  if (input.fqdn) {
    if (!input.fqdn.resolves) {
      return fail('FQDN_UNRESOLVABLE', 'FQDN resolves', `${input.fqdn.name}: ${input.fqdn.detail}`,
        `the broker FQDN "${input.fqdn.name}" does not resolve from the broker (${input.fqdn.detail}); endpoints cannot find it either — fix DNS or the connection settings`);
    }
    pass('FQDN resolves', `${input.fqdn.name}: ${input.fqdn.detail}`);
  }

  // A machine that said it was shutting down reads "stopped" (SPEC §3.2), unless a refused handshake came after.
  if (e.status === 'STOPPED' && !input.connected && !(e.lastTlsFailureAt !== null && e.lastTlsFailureAt > e.statusSince)) {
    return fail('STOPPED', 'online', `stopped since ${iso(e.statusSince)}: the endpoint said its machine was shutting down`,
      `endpoint ${e.clientId} is stopped since ${iso(e.statusSince)}: its machine was shut down (it said so before leaving); it comes back when the machine starts`);
  }

  const tlsAfterConnect = e.lastTlsFailureAt !== null && (e.connectedAt === null || e.lastTlsFailureAt > e.connectedAt);
  if (!input.connected && tlsAfterConnect && e.lastTlsFailureCause) {
    const verdict = e.lastTlsFailureCause === 'CLOCK_SKEW' || e.lastTlsFailureCause === 'NOT_YET_VALID' ? 'CLOCK_SKEW' : 'TLS_REFUSED';
    return fail(verdict, 'TLS handshake', `${e.lastTlsFailureCause} at ${iso(e.lastTlsFailureAt!)}: ${e.lastTlsFailureDetail ?? ''}`,
      `the last handshake from endpoint ${e.clientId} was refused (${e.lastTlsFailureCause.toLowerCase().replace(/_/g, ' ')}) at ${iso(e.lastTlsFailureAt!)}`);
  }
  if (e.clockSkewMs !== null && Math.abs(e.clockSkewMs) > input.clockSkewToleranceMs) {
    const detail = `endpoint clock is ${Math.round(e.clockSkewMs / 1000)} s ${e.clockSkewMs > 0 ? 'ahead of' : 'behind'} the broker at the last handshake`;
    if (!input.connected) {
      return fail('CLOCK_SKEW', 'clocks agree', detail, `clock skew on endpoint ${e.clientId}: ${detail}; TLS needs both clocks right — fix the time on the endpoint or the broker`);
    }
    steps.push({ name: 'clocks agree', ok: false, detail });
  } else {
    pass('clocks agree', e.clockSkewMs === null ? 'not measured yet' : `skew ${e.clockSkewMs} ms`);
  }

  if (e.status === 'NEVER_CONNECTED') {
    return fail('NEVER_CONNECTED', 'connected once', 'the endpoint enrolled but never opened its control channel',
      `endpoint ${e.clientId} enrolled but never connected: check the agent is running and can reach the broker FQDN and port 17475 (run "endpoint-recorder doctor" on it)`);
  }
  if (e.status === 'OFFLINE') {
    const why = e.lastDisconnectReason ? `last disconnect ${e.lastDisconnectReason.toLowerCase().replace(/_/g, ' ')}${e.lastDisconnectDetail ? ` (${e.lastDisconnectDetail})` : ''} at ${iso(e.lastDisconnectAt!)}` : 'no disconnect recorded';
    return fail('OFFLINE', 'online', `offline since ${iso(e.statusSince)}; ${why}`,
      `endpoint ${e.clientId} is offline since ${iso(e.statusSince)}; ${why}. Check the machine is on and on the network, the agent runs, and nothing blocks port 17475`);
  }
  pass('online', `online since ${iso(e.statusSince)}`);
  if (!input.connected) {
    return fail('NOT_CONNECTED', 'control channel attached', `no control channel right now${e.lastDisconnectReason ? `; last disconnect ${e.lastDisconnectReason}` : ''}`,
      `endpoint ${e.clientId} has no control channel right now; it is still within its heartbeat allowance and should reconnect`);
  }
  pass('control channel attached', `route ${e.route}`);
  return { verdict: 'REACHABLE', summary: `endpoint ${e.clientId} is reachable (${e.route})`, steps };
}
