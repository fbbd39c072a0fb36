import { status } from '@grpc/grpc-js';
import { waitFor } from '@dc/service-kit/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { common, moduleserver as ms, type session as sessionPb } from '../contracts';
import { type ApiClients, type Harness, startHarness, TOKENS, unary } from '../testing/broker-harness';

function collect<T>(stream: NodeJS.ReadableStream): Promise<T[]> {
  return new Promise((resolve, reject) => {
    const out: T[] = [];
    stream.on('data', (d: T) => out.push(d));
    stream.on('error', reject);
    stream.on('end', () => resolve(out));
  });
}

describe('sessions through the module API', () => {
  let h: Harness;
  let api: ApiClients;
  beforeAll(async () => {
    h = await startHarness();
    api = h.api(TOKENS.user);
  });
  afterAll(async () => {
    await h.close();
  });
  beforeEach(() => {
    h.settings.actionGroup = null;
    h.settings.lockMode = 'BLOCK_ALL';
  });

  const open = (computerName: string, extra: Partial<ms.OpenSessionRequest> = {}) =>
    unary(api.sessions.openSession.bind(api.sessions), { target: { target: { $case: 'computerName', value: computerName } }, moduleName: 'trace', waitUntilOpen: true, ...extra }, api.metadata);

  it('opens a session by computer name, relays requests, lists it with the SPEC 1.5 columns and closes it', async () => {
    const ep = await h.endpoint('trace-01.corp.example', { ips: ['10.9.0.1'] });
    const { session } = await open('trace-01');
    expect(session!.actionStatus).toBe(common.ActionStatus.ACTION_STATUS_SUCCEEDED);
    expect(session!.sessionStatus).toBe(ms.SessionStatus.SESSION_STATUS_OPEN);
    const pong = await unary(api.sessions.pingSession.bind(api.sessions), { sessionId: session!.sessionId, payload: Buffer.from('hi') }, api.metadata);
    expect(pong.roundTripTime).toBeDefined();
    const status1 = await unary(api.sessions.getRecorderStatus.bind(api.sessions), { sessionId: session!.sessionId }, api.metadata);
    expect(status1.status?.state).toBe(common.RecorderState.RECORDER_STATE_RUNNING);

    const { sessions } = await unary(api.sessions.listSessions.bind(api.sessions), ms.ListSessionsRequest.fromPartial({ clientId: ep.identity.clientId }), api.metadata);
    expect(sessions).toHaveLength(1);
    const row = sessions[0]!;
    expect([row.hostName, row.clientId, row.ipAddress, row.moduleName, row.openedBy]).toEqual(['trace-01.corp.example', ep.identity.clientId, '10.9.0.1', 'trace', 'user']);
    expect(row.duration).toBeDefined();
    expect(row.lastMessageTime).toBeDefined();
    expect(row.requestsCompleted).toBe(2);

    const closed = await unary(api.sessions.closeSession.bind(api.sessions), { sessionId: session!.sessionId, reason: 'done' }, api.metadata);
    expect(closed.session!.actionStatus).toBe(common.ActionStatus.ACTION_STATUS_CLOSED);
    expect(closed.session!.closeReason).toBe('closed by user: done');
    await waitFor(() => ep.sessionStreams.size === 0, { what: 'the endpoint to see its session stream end' });
  });

  it('streams a large result in chunks', async () => {
    const rows = (n: number) => Array.from({ length: n }, (_, i) => ({ ...emptyEvent(), eventId: i }));
    await h.endpoint('trace-02', {
      onRequest: function* (req) {
        if (req.payload?.$case !== 'queryEvents') return;
        for (let i = 0; i < 4; i++) yield { $case: 'events', value: { events: rows(250), truncated: i === 3 } };
      },
    });
    const { session } = await open('trace-02');
    const chunks = await collect<ms.QueryEventsResponse>(
      api.sessions.queryEvents(ms.QueryEventsRequest.fromPartial({ sessionId: session!.sessionId, query: { family: common.EventFamily.EVENT_FAMILY_PROCESS, limit: 1000 } }), api.metadata),
    );
    expect(chunks.map((c) => c.chunk!.events.length)).toEqual([250, 250, 250, 250]);
    expect(chunks[3]!.chunk!.truncated).toBe(true);
  });

  it('turns an endpoint error chunk into the matching gRPC status', async () => {
    await h.endpoint('trace-03');
    const { session } = await open('trace-03');
    const err = await collect(api.sessions.findFiles(ms.FindFilesRequest.fromPartial({ sessionId: session!.sessionId, search: { rules: [] } }), api.metadata)).catch((e: { code: number; details: string }) => e);
    expect(err).toMatchObject({ code: status.UNIMPLEMENTED });
  });

  it('refuses a session to an endpoint outside the action group, saying why', async () => {
    await h.endpoint('outside-01');
    h.settings.actionGroup = new Set(['someone-else']);
    h.settings.actionGroupName = 'Finance Laptops';
    await expect(open('outside-01')).rejects.toMatchObject({
      code: status.FAILED_PRECONDITION,
      details: expect.stringMatching(/not in the action group.*"Finance Laptops" and does not include outside-01/),
    });
  });

  it('enforces the three action lock modes', async () => {
    await h.endpoint('locked-01', { actionLock: true });
    await expect(open('locked-01')).rejects.toMatchObject({ code: status.FAILED_PRECONDITION, details: expect.stringMatching(/action lock on.*block all/) });
    h.settings.lockMode = 'ALLOW_NEW_CONNECTIONS';
    const { session } = await open('locked-01');
    expect(session!.sessionStatus).toBe(ms.SessionStatus.SESSION_STATUS_OPEN);
    await expect(unary(api.sessions.stopRecorder.bind(api.sessions), { sessionId: session!.sessionId, reason: 'x' }, api.metadata)).rejects.toMatchObject({
      code: status.FAILED_PRECONDITION,
      details: expect.stringMatching(/does not allow changes: cannot stop the recorder/),
    });
    h.settings.lockMode = 'ALLOW_NEW_CONNECTIONS_AND_CONFIGURATION';
    // now allowed past the lock; the test endpoint does not implement it, which proves it was relayed
    await expect(unary(api.sessions.stopRecorder.bind(api.sessions), { sessionId: session!.sessionId, reason: 'x' }, api.metadata)).rejects.toMatchObject({ code: status.UNIMPLEMENTED });
  });

  it('records Not Succeeded when the endpoint refuses the Open Session action', async () => {
    await h.endpoint('refuser-01', { refuseSessions: 'action lock is on' });
    const { session } = await open('refuser-01');
    expect(session!.actionStatus).toBe(common.ActionStatus.ACTION_STATUS_NOT_SUCCEEDED);
    expect(session!.sessionStatus).toBe(ms.SessionStatus.SESSION_STATUS_FAILED);
    expect(session!.actionDetail).toBe('action lock is on');
  });

  it('closes an idle session as Complete', async () => {
    const ep = await h.endpoint('idle-01');
    const { session } = await open('idle-01', { idleTimeout: { seconds: 30, nanos: 0 } });
    h.clock.advance(31_000);
    h.broker.sessions.sweep();
    const got = await unary(api.sessions.getSession.bind(api.sessions), { sessionId: session!.sessionId }, api.metadata);
    expect(got.session!.actionStatus).toBe(common.ActionStatus.ACTION_STATUS_COMPLETE);
    expect(got.session!.closeReason).toMatch(/idle timeout/);
    await waitFor(() => ep.sessionStreams.size === 0, { what: 'the session stream to end' });
  });

  it('renews an endpoint certificate with a session open, and the session keeps working', async () => {
    const ep = await h.endpoint('renew-01');
    const { session } = await open('renew-01');
    const before = h.broker.registry.require(ep.identity.clientId).certSerial;
    const admin = h.api(TOKENS.admin);
    await unary(admin.endpoints.renewEndpointCertificates.bind(admin.endpoints), ms.RenewEndpointCertificatesRequest.fromPartial({ clientIds: [ep.identity.clientId] }), admin.metadata);
    await waitFor(() => ep.renewals === 1, { what: 'the renewal' });
    expect(h.broker.registry.require(ep.identity.clientId).certSerial).not.toBe(before);
    const pong = await unary(api.sessions.pingSession.bind(api.sessions), { sessionId: session!.sessionId, payload: Buffer.alloc(0) }, api.metadata);
    expect(pong.roundTripTime).toBeDefined();
    ep.reconnectClient();
    await ep.connect(); // the new certificate is accepted
  });

  it('tests a connection: round trip when online, a diagnosis naming the broken step otherwise', async () => {
    const ep = await h.endpoint('tc-01');
    const test = (v: string) => unary(api.endpoints.testConnection.bind(api.endpoints), { target: { target: { $case: 'computerName', value: v } } }, api.metadata);
    const online = await test('tc-01');
    expect(online.result?.$case).toBe('online');
    if (online.result?.$case === 'online') expect(online.result.value.route?.kind).toBe(ms.RouteKind.ROUTE_KIND_DIRECT);
    const unknown = await test('nobody-here');
    expect(unknown.result?.$case === 'diagnosis' && unknown.result.value.step).toBe(ms.DiagnosisStep.DIAGNOSIS_STEP_UNKNOWN_ENDPOINT);
    ep.close();
    await waitFor(() => !h.broker.hub.isConnected(ep.identity.clientId), { what: 'the channel to close' });
    h.clock.advance(10 * 60_000);
    h.broker.presence.sweep();
    const offline = await test('tc-01');
    expect(offline.result?.$case).toBe('diagnosis');
    if (offline.result?.$case === 'diagnosis') {
      expect(offline.result.value.step).toBe(ms.DiagnosisStep.DIAGNOSIS_STEP_OFFLINE);
      expect(offline.result.value.hints[0]).toMatch(/offline since .*last disconnect transport error/);
    }
  });
});

function emptyEvent(): sessionPb.RecorderEvent {
  return { eventId: 0, family: common.EventFamily.EVENT_FAMILY_PROCESS, time: new Date(), process: undefined, detail: undefined, signals: [] };
}
