import type { TLSSocket } from 'node:tls';
import { commonV1 } from '@dc/proto';
import { describe, expect, it } from 'vitest';
import { normaliseSerial, type TrustState, verifyEndpoint } from './endpoint-inbound';

const CAUSE = commonV1.TlsFailureCause;
const now = new Date('2026-11-23T12:00:00Z');
const trust = (revoked: string[] = []): TrustState => ({ trustBundlePem: '', revocationVersion: 1, revoked: new Set(revoked) });

/** The parts of a TLS socket verifyEndpoint reads, after a handshake with this outcome. */
function socket(o: { cert?: { serialNumber: string; san?: string; cn?: string }; authorized?: boolean; error?: string }): TLSSocket {
  const cert = o.cert
    ? { raw: Buffer.from(`der-${o.cert.serialNumber}`), serialNumber: o.cert.serialNumber, subject: { CN: o.cert.cn }, subjectaltname: o.cert.san, valid_from: 'Nov 1 00:00:00 2026 GMT', valid_to: 'Dec 1 00:00:00 2026 GMT' }
    : {};
  return { getPeerCertificate: () => cert, authorized: o.authorized ?? false, authorizationError: o.error } as unknown as TLSSocket;
}

describe('the certificate check of an endpoint connection on :17486', () => {
  it('relays a connection without a certificate as anonymous (the module server serves it Enrol only)', () => {
    expect(verifyEndpoint(socket({}), '10.0.0.5:5000', trust(), now)).toEqual({
      ok: true,
      identity: { clientId: '', certificateSerial: '', certificateFingerprintSha256: '', remoteAddress: '10.0.0.5:5000' },
    });
  });

  it('names a verified endpoint by its certificate: client id, serial, fingerprint, expiry', () => {
    const v = verifyEndpoint(socket({ cert: { serialNumber: '0A1B', san: 'URI:urn:dc:endpoint:ep-7' }, authorized: true }), '10.0.0.5:5000', trust(), now);
    expect(v.ok && v.identity).toMatchObject({ clientId: 'ep-7', certificateSerial: 'a1b', certificateNotAfter: new Date('2026-12-01T00:00:00Z') });
    expect(v.ok && v.identity.certificateFingerprintSha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('refuses a revoked certificate with "certificate revoked" and says why in the handshake failure', () => {
    const v = verifyEndpoint(socket({ cert: { serialNumber: '0A1B', cn: 'ep-7' }, authorized: true }), '10.0.0.5:5000', trust([normaliseSerial('0a:1b')]), now);
    expect(v).toMatchObject({ ok: false, message: 'certificate revoked', failure: { cause: CAUSE.TLS_FAILURE_CAUSE_CERTIFICATE_REVOKED, clientId: 'ep-7', certificateSerial: 'a1b', time: now } });
  });

  it('refuses expired, not yet valid, foreign and nameless certificates with the cause', () => {
    const refused = (s: TLSSocket) => {
      const v = verifyEndpoint(s, 'r', trust(), now);
      return v.ok ? 'accepted' : `${commonV1.tlsFailureCauseToJSON(v.failure.cause)}: ${v.message}`;
    };
    expect(refused(socket({ cert: { serialNumber: '01', cn: 'a' }, error: 'CERT_HAS_EXPIRED' }))).toMatch(/^TLS_FAILURE_CAUSE_CERTIFICATE_EXPIRED: client certificate expired Dec 1/);
    expect(refused(socket({ cert: { serialNumber: '01', cn: 'a' }, error: 'CERT_NOT_YET_VALID' }))).toMatch(/^TLS_FAILURE_CAUSE_CLOCK_SKEW: /);
    expect(refused(socket({ cert: { serialNumber: '01', cn: 'a' }, error: 'SELF_SIGNED_CERT_IN_CHAIN' }))).toBe('TLS_FAILURE_CAUSE_UNKNOWN_CA: client certificate not issued by our CA (SELF_SIGNED_CERT_IN_CHAIN)');
    expect(refused(socket({ cert: { serialNumber: '01' }, authorized: true }))).toMatch(/^TLS_FAILURE_CAUSE_OTHER: client certificate names no endpoint/);
  });
});
