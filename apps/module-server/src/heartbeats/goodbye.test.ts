// Goodbye on the control channel (SPEC §3.2): a machine that says it is shutting down reads
// Stopped — an event, no offline alert — and Online again with an event when it returns; an
// agent stopped or restarting says so in the last disconnect. Real gRPC, real TLS, real broker.db.
import { waitFor } from '@dc/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gateway, moduleserver as ms } from '../contracts';
import { type Harness, startHarness, TOKENS, unary } from '../testing/broker-harness';
import type { TestEndpoint } from '../testing/test-endpoint';

describe('Goodbye from an endpoint', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
    h.settings.policy = { intervalSeconds: 60, missedHeartbeatsBeforeOffline: 3, missedHeartbeatsBeforeAlert: 5 };
  }, 60_000);
  afterAll(() => h?.close());

  const leave = async (ep: TestEndpoint, reason: gateway.GoodbyeReason, detail = '') => {
    const clientId = ep.identity.clientId;
    ep.goodbye(reason, detail);
    ep.disconnect();
    await waitFor(() => !h.broker.hub.isConnected(clientId) && h.broker.registry.require(clientId).connectedAt === null, { what: 'the channel closed on the broker' });
    return h.broker.registry.require(clientId);
  };
  const testConnection = async (clientId: string) => {
    const api = h.api(TOKENS.user);
    return unary(api.endpoints.testConnection.bind(api.endpoints), { target: { target: { $case: 'clientId', value: clientId } } }, api.metadata);
  };

  it('MACHINE_SHUTDOWN: Stopped at once with an event, no offline alert however long it stays away, Online with an event on return', async () => {
    const ep = await h.endpoint('vm-01');
    const clientId = ep.identity.clientId;
    const leftAt = h.clock.now();
    const rec = await leave(ep, gateway.GoodbyeReason.GOODBYE_REASON_MACHINE_SHUTDOWN, 'systemd is stopping');
    expect(rec.status).toBe('STOPPED');
    expect(rec.statusSince).toBe(leftAt);
    expect(rec.lastDisconnectReason).toBe('CLEAN_CLOSE');
    expect(rec.lastDisconnectDetail).toBe('goodbye MACHINE_SHUTDOWN: the machine is shutting down (systemd is stopping)');
    const stopped = h.broker.events.list({ clientId }).filter((e) => e.kind === 'ENDPOINT_STOPPED');
    expect(stopped).toHaveLength(1);
    expect(stopped[0]!.message).toBe('endpoint vm-01 stopped: its machine is shutting down');

    // Hours without a heartbeat: no Offline, no alert (the policy would raise one after 5 minutes).
    h.clock.advance(2 * 3_600_000);
    const swept = h.broker.presence.sweep();
    expect(swept).toEqual({ wentOffline: [], alerted: [] });
    expect(h.broker.events.alerts({ openOnly: true, clientId })).toEqual([]);

    const api = h.api(TOKENS.user);
    const { endpoint } = await unary(api.endpoints.getEndpoint.bind(api.endpoints), { target: { target: { $case: 'clientId', value: clientId } } }, api.metadata);
    expect(endpoint!.status).toBe(ms.EndpointStatus.ENDPOINT_STATUS_STOPPED);
    expect(endpoint!.statusSinceTime!.getTime()).toBe(leftAt);
    expect(endpoint!.lastDisconnect!.detail).toContain('MACHINE_SHUTDOWN');
    const listed = await unary(api.endpoints.listEndpoints.bind(api.endpoints), ms.ListEndpointsRequest.fromPartial({ statuses: [ms.EndpointStatus.ENDPOINT_STATUS_STOPPED] }), api.metadata);
    expect(listed.endpoints.map((e) => e.clientId)).toEqual([clientId]);

    // TestConnection names the step STOPPED and when.
    const t = await testConnection(clientId);
    expect(t.result?.$case).toBe('diagnosis');
    const d = t.result!.$case === 'diagnosis' ? t.result!.value : undefined;
    expect(d!.step).toBe(ms.DiagnosisStep.DIAGNOSIS_STEP_STOPPED);
    expect(d!.offlineSinceTime!.getTime()).toBe(leftAt);
    expect(d!.hints[0]).toContain(`stopped since ${new Date(leftAt).toISOString()}`);

    // It survives a broker restart (broker.db), and the machine coming back is Online with an event.
    await h.restart();
    expect(h.broker.registry.require(clientId).status).toBe('STOPPED');
    ep.reconnectClient();
    await ep.connect();
    const back = h.broker.registry.require(clientId);
    expect(back.status).toBe('ONLINE');
    expect(back.goodbyeReason).toBeNull();
    const online = h.broker.events.list({ clientId }).filter((e) => e.kind === 'ENDPOINT_ONLINE').at(-1)!;
    expect(online.message).toBe('endpoint returned');
    expect(online.data.previousStatus).toBe('STOPPED');
    ep.close();
  });

  it('AGENT_STOPPED / AGENT_RESTART: the last disconnect says so; heartbeats decide Offline and the alert as usual', async () => {
    // Their clocks follow the broker's (moved by hand in the test before), so no skew clouds the diagnosis.
    const endpointTime = () => new Date(h.clock.now());
    const a = await h.endpoint('ws-01', { endpointTime });
    const stopped = await leave(a, gateway.GoodbyeReason.GOODBYE_REASON_AGENT_STOPPED);
    expect(stopped.status).toBe('ONLINE');
    expect(stopped.lastDisconnectDetail).toBe('goodbye AGENT_STOPPED: the agent was stopped on the endpoint');
    const b = await h.endpoint('ws-02', { endpointTime });
    const restarting = await leave(b, gateway.GoodbyeReason.GOODBYE_REASON_AGENT_RESTART);
    expect(restarting.lastDisconnectDetail).toBe('goodbye AGENT_RESTART: the agent is restarting (expected back within a minute)');

    h.clock.advance(5 * 60_000);
    const swept = h.broker.presence.sweep();
    expect(swept.wentOffline).toEqual(expect.arrayContaining([a.identity.clientId, b.identity.clientId]));
    expect(swept.alerted).toEqual(expect.arrayContaining([a.identity.clientId, b.identity.clientId]));
    const t = await testConnection(a.identity.clientId);
    const d = t.result!.$case === 'diagnosis' ? t.result!.value : undefined;
    expect(d!.step).toBe(ms.DiagnosisStep.DIAGNOSIS_STEP_OFFLINE);
    expect(d!.lastDisconnect!.detail).toContain('the agent was stopped on the endpoint');
    a.close();
    b.close();
  });

  it('a channel that ends without a Goodbye is not Stopped (the reason of an earlier channel does not stick)', async () => {
    const ep = await h.endpoint('ws-03');
    await leave(ep, gateway.GoodbyeReason.GOODBYE_REASON_AGENT_STOPPED);
    ep.reconnectClient();
    await ep.connect();
    ep.disconnect();
    await waitFor(() => h.broker.registry.require(ep.identity.clientId).connectedAt === null, { what: 'the second channel closed' });
    const rec = h.broker.registry.require(ep.identity.clientId);
    expect(rec.lastDisconnectDetail).toBe('the endpoint closed the channel');
    expect(rec.status).toBe('ONLINE');
    ep.close();
  });
});
