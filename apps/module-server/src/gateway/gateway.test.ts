import { status } from '@grpc/grpc-js';
import { waitFor } from '@dc/service-kit/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { gateway } from '../contracts';
import { type Harness, startHarness } from '../testing/broker-harness';
import { makeCsr, rsaKeyPair, TestCa } from '../testing/test-ca';
import { enrolTestEndpoint, TestEndpoint } from '../testing/test-endpoint';

describe('endpoint gateway over mutual TLS', () => {
  // One broker for the file (starting one costs seconds); each test uses its own endpoints.
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h.close();
  });
  beforeEach(() => {
    h.settings.policy = { intervalSeconds: 60, missedHeartbeatsBeforeOffline: 3, missedHeartbeatsBeforeAlert: 3 };
  });
  const eventsOf = (clientId: string) => h.broker.events.list({ clientId }).map((e) => e.kind);

  it('enrols an endpoint with its token, then accepts its certificate on the control channel', async () => {
    const ep = await h.endpoint('ws-01.corp.example', { ips: ['10.1.2.3'] });
    expect(ep.helloAck?.clientId).toBe(ep.identity.clientId);
    expect(ep.helloAck?.heartbeatPolicy?.missedHeartbeatsBeforeOffline).toBe(3);
    const rec = h.broker.registry.require(ep.identity.clientId);
    expect([rec.status, rec.enrolment, rec.hostname, rec.ips]).toEqual(['ONLINE', 'ENROLLED', 'ws-01.corp.example', ['10.1.2.3']]);
    expect(h.broker.hub.isConnected(ep.identity.clientId)).toBe(true);
    expect(eventsOf(ep.identity.clientId)).toEqual(['ENDPOINT_ENROLLED', 'ENDPOINT_ONLINE']);
  });

  it('refuses a bad enrolment token and remembers the attempt as never enrolled', async () => {
    await expect(enrolTestEndpoint(h.gatewayAddress(), h.ca.rootPem, 'not-a-token', 'ghost-01')).rejects.toMatchObject({ code: status.UNAUTHENTICATED });
    const rec = h.broker.registry.find('ghost-01');
    expect(rec?.enrolment).toBe('NOT_ENROLLED');
    expect(rec?.enrolmentDetail).toMatch(/enrolment token is unknown, used or expired/);
  });

  it('answers heartbeats and marks the endpoint offline after missed heartbeats, with an event and an alert', async () => {
    const ep = await h.endpoint('ws-02');
    const id = ep.identity.clientId;
    ep.heartbeat();
    await waitFor(() => ep.received.some((m) => m.message?.$case === 'heartbeatAck'), { what: 'a heartbeat ack' });
    h.clock.advance(3 * 60_000);
    h.broker.presence.sweep();
    expect(h.broker.registry.require(id).status).toBe('OFFLINE');
    expect(h.broker.events.alerts({ openOnly: true, clientId: id })).toHaveLength(1);
    ep.heartbeat();
    await waitFor(() => h.broker.registry.require(id).status === 'ONLINE', { what: 'the endpoint back online' });
    expect(h.broker.events.alerts({ openOnly: true, clientId: id })).toEqual([]);
    expect(eventsOf(id)).toEqual(['ENDPOINT_ENROLLED', 'ENDPOINT_ONLINE', 'ENDPOINT_OFFLINE', 'ALERT_RAISED', 'ENDPOINT_ONLINE', 'ALERT_CLEARED']);
  });

  it('suppresses the offline alert when the alert threshold is unlimited', async () => {
    h.settings.policy = { ...h.settings.policy, missedHeartbeatsBeforeAlert: null };
    const ep = await h.endpoint('vm-03');
    h.clock.advance(100 * 60_000);
    h.broker.presence.sweep();
    expect(h.broker.registry.require(ep.identity.clientId).status).toBe('OFFLINE');
    expect(eventsOf(ep.identity.clientId)).toContain('ENDPOINT_OFFLINE');
    expect(h.broker.events.alerts({ clientId: ep.identity.clientId })).toEqual([]);
  });

  it('remembers a clean close and a transport error as the last disconnect reason', async () => {
    const a = await h.endpoint('ws-04');
    a.disconnect();
    await waitFor(() => h.broker.registry.require(a.identity.clientId).lastDisconnectReason !== null, { what: 'a disconnect reason' });
    expect(h.broker.registry.require(a.identity.clientId).lastDisconnectReason).toBe('CLEAN_CLOSE');
    const b = await h.endpoint('ws-05');
    b.close();
    await waitFor(() => h.broker.registry.require(b.identity.clientId).lastDisconnectReason !== null, { what: 'a disconnect reason' });
    expect(h.broker.registry.require(b.identity.clientId).lastDisconnectReason).toBe('TRANSPORT_ERROR');
  });

  it('refuses a revoked endpoint certificate and records why', async () => {
    const ep = await h.endpoint('ws-06');
    ep.close();
    h.ca.revoke(h.broker.registry.require(ep.identity.clientId).certSerial!);
    const again = new TestEndpoint(h.gatewayAddress(), ep.identity, { hostName: 'ws-06' });
    await expect(again.connect()).rejects.toMatchObject({ code: status.UNAUTHENTICATED, details: 'certificate revoked' });
    again.close();
    expect(h.broker.registry.require(ep.identity.clientId).lastTlsFailureCause).toBe('REVOKED');
  });

  it('refuses a client certificate from another CA', async () => {
    const other = new TestCa('Impostor Root');
    const key = rsaKeyPair();
    const issued = other.issueEndpoint('impostor', makeCsr(key));
    const ep = new TestEndpoint(h.gatewayAddress(), { clientId: 'impostor', key, certPem: issued.certificateChainPem, caPem: h.ca.rootPem }, { hostName: 'impostor' });
    const err = await ep.connect().then(() => undefined, (e: { code: number; details: string }) => e);
    ep.close();
    expect(err?.code).toBe(status.UNAUTHENTICATED);
    expect(err?.details).toMatch(/not issued by our CA/);
    expect(h.broker.registry.get('impostor')).toBeUndefined();
  });

  it('refuses an expired certificate and records the cause for the diagnosis', async () => {
    const ep = await h.endpoint('ws-07');
    ep.close();
    const key = rsaKeyPair();
    const expired = h.ca.issueEndpoint(ep.identity.clientId, makeCsr(key), { notBefore: new Date(Date.now() - 3 * 86_400_000), notAfter: new Date(Date.now() - 86_400_000) });
    const stale = new TestEndpoint(h.gatewayAddress(), { ...ep.identity, key, certPem: expired.certificateChainPem }, { hostName: 'ws-07' });
    await expect(stale.connect()).rejects.toMatchObject({ code: status.UNAUTHENTICATED });
    stale.close();
    expect(h.broker.registry.require(ep.identity.clientId).lastTlsFailureCause).toBe('EXPIRED');
  });

  it('refuses a control channel without a client certificate, but enrolment needs none', async () => {
    const ep = await h.endpoint('ws-08');
    const anonymous = new TestEndpoint(h.gatewayAddress(), { ...ep.identity }, { hostName: 'x' });
    anonymous.client.close();
    const { credentials } = await import('@grpc/grpc-js');
    anonymous.client = new gateway.EndpointGatewayServiceClient(h.gatewayAddress(), credentials.createSsl(Buffer.from(h.ca.rootPem)));
    await expect(anonymous.connect()).rejects.toMatchObject({ code: status.UNAUTHENTICATED, details: 'no client certificate was presented' });
    anonymous.close();
  });

  it('replaces an older control channel of the same endpoint with a Goaway', async () => {
    const first = await h.endpoint('ws-09');
    const second = new TestEndpoint(h.gatewayAddress(), first.identity, { hostName: 'ws-09' });
    await second.connect();
    await waitFor(() => first.goaways.length > 0, { what: 'a goaway' });
    expect(first.goaways[0]!.reason).toBe(gateway.GoawayReason.GOAWAY_REASON_DUPLICATE_CONNECTION);
    expect(h.broker.hub.get(first.identity.clientId)).toBeDefined();
    expect(h.broker.registry.require(first.identity.clientId).lastDisconnectReason).toBeNull();
    second.close();
  });

  it('tells endpoints to reconnect, spread in time, when it shuts down, and keeps everything across the restart', async () => {
    const eps = await Promise.all(['a', 'b', 'c'].map((n) => h.endpoint(`ws-${n}`)));
    for (const ep of eps) ep.heartbeat();
    await waitFor(() => eps.every((ep) => ep.received.some((m) => m.message?.$case === 'heartbeatAck')), { what: 'heartbeat acks' });
    const eventsBefore = h.broker.events.list().length;
    const enrolledBefore = h.broker.registry.list().filter((e) => e.enrolment === 'ENROLLED').length;
    await h.restart();
    for (const ep of eps) {
      expect(ep.goaways[0]?.reason).toBe(gateway.GoawayReason.GOAWAY_REASON_BROKER_SHUTDOWN);
      expect(ep.goaways[0]!.reconnectAfter!.seconds * 1000 + ep.goaways[0]!.reconnectAfter!.nanos / 1e6).toBeLessThan(1000);
    }
    expect(h.broker.registry.list().filter((e) => e.enrolment === 'ENROLLED')).toHaveLength(enrolledBefore);
    expect(h.broker.events.list().length).toBe(eventsBefore);
    expect(h.broker.registry.require(eps[0]!.identity.clientId).lastDisconnectReason).toBe('BROKER_SHUTDOWN');
    for (const ep of eps) {
      ep.reconnectClient();
      await ep.connect();
    }
    expect(eps.every((ep) => h.broker.hub.isConnected(ep.identity.clientId))).toBe(true);
    expect(eps.every((ep) => h.broker.registry.require(ep.identity.clientId).status === 'ONLINE')).toBe(true);
  });
});
