import { describe, expect, it } from 'vitest';
import type { EndpointRecord } from '../registry/endpoint-registry';
import { FACTS } from '../testing/broker-fixture';
import { diagnose, type DiagnosisInput } from './diagnose';

const NOW = Date.UTC(2026, 5, 1);
const base: EndpointRecord = {
  ...FACTS,
  clientId: 'ep-1',
  enrolment: 'ENROLLED',
  enrolmentDetail: null,
  status: 'ONLINE',
  statusSince: NOW - 3600_000,
  enrolledAt: NOW - 86_400_000,
  certSerial: '0a',
  certNotAfter: NOW + 86_400_000,
  firstConnectedAt: NOW - 86_000_000,
  connectedAt: NOW - 3600_000,
  lastHeartbeatAt: NOW - 1000,
  lastDisconnectAt: null,
  lastDisconnectReason: null,
  lastDisconnectDetail: null,
  clockSkewMs: 20,
  lastTlsFailureAt: null,
  lastTlsFailureCause: null,
  lastTlsFailureDetail: null,
};
const input = (over: Partial<DiagnosisInput> = {}, ep: Partial<EndpointRecord> = {}): DiagnosisInput => ({
  target: 'ep-1', endpoint: { ...base, ...ep }, now: NOW, revoked: false, connected: true, clockSkewToleranceMs: 60_000, ...over,
});

describe('test-connection diagnosis', () => {
  const cases: Array<[string, DiagnosisInput, string, RegExp]> = [
    ['an unknown endpoint', input({ endpoint: undefined, target: 'nohost' }), 'UNKNOWN_ENDPOINT', /unknown endpoint "nohost"/],
    ['an endpoint that never enrolled', input({}, { enrolment: 'NOT_ENROLLED', enrolmentDetail: 'enrolment token expired' }), 'NEVER_ENROLLED', /token expired/],
    ['a revoked certificate', input({ revoked: true }), 'CERTIFICATE_REVOKED', /revoked/],
    ['an expired certificate', input({}, { certNotAfter: NOW - 1 }), 'CERTIFICATE_EXPIRED', /expired at 2026-05-31/],
    ['an FQDN that does not resolve', input({ fqdn: { name: 'dc.corp.example', resolves: false, detail: 'ENOTFOUND' } }), 'FQDN_UNRESOLVABLE', /dc.corp.example.*ENOTFOUND/],
    ['a refused handshake after the last connection', input({ connected: false }, { status: 'OFFLINE', lastTlsFailureAt: NOW - 10, lastTlsFailureCause: 'UNKNOWN_CA', lastTlsFailureDetail: 'issuer not trusted' }), 'TLS_REFUSED', /unknown ca/],
    ['clock skew seen at the last handshake', input({ connected: false }, { status: 'OFFLINE', clockSkewMs: -7200_000 }), 'CLOCK_SKEW', /7200 s behind/],
    ['an endpoint that never connected', input({ connected: false }, { status: 'NEVER_CONNECTED', connectedAt: null }), 'NEVER_CONNECTED', /never connected/],
    ['an offline endpoint, with its last disconnect reason', input({ connected: false }, { status: 'OFFLINE', statusSince: NOW - 600_000, lastDisconnectAt: NOW - 700_000, lastDisconnectReason: 'TRANSPORT_ERROR', lastDisconnectDetail: 'ECONNRESET' }), 'OFFLINE', /offline since 2026-05-31T23:50:00.000Z; last disconnect transport error \(ECONNRESET\)/],
    ['a stopped machine, with the time', input({ connected: false }, { status: 'STOPPED', statusSince: NOW - 600_000, connectedAt: null }), 'STOPPED', /stopped since 2026-05-31T23:50:00.000Z: its machine was shut down/],
    ['a stopped machine refused at a later handshake (the refusal wins)', input({ connected: false }, { status: 'STOPPED', statusSince: NOW - 600_000, connectedAt: null, lastTlsFailureAt: NOW - 10, lastTlsFailureCause: 'EXPIRED', lastTlsFailureDetail: 'expired' }), 'TLS_REFUSED', /refused \(expired\)/],
    ['an endpoint whose tools were removed', input({ connected: false }, { status: 'REMOVED', statusSince: NOW - 600_000, connectedAt: null }), 'REMOVED', /removed its Direct Connect tools at 2026-05-31T23:50:00.000Z/],
    ['an online endpoint without a control channel', input({ connected: false }), 'NOT_CONNECTED', /no control channel/],
    ['a reachable endpoint', input(), 'REACHABLE', /reachable \(direct\)/],
  ];
  it.each(cases)('names %s', (_name, given, verdict, summary) => {
    const d = diagnose(given);
    expect(d.verdict).toBe(verdict);
    expect(d.summary).toMatch(summary);
    expect(d.steps[d.steps.length - 1].ok).toBe(verdict === 'REACHABLE');
  });
});
