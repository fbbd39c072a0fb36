// Uninstall (SPEC 1.7.4) through the module API against a real broker: the dry-run plan, the
// confirmation, Remove Tools to online endpoints and to others as they reconnect, progress per OS,
// the endpoint timeout, the state surviving a restart, and the server data removed at the end.
import { status } from '@grpc/grpc-js';
import { waitFor } from '@dc/service-kit/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { common, gateway, moduleserver as ms } from '../contracts';
import { type Harness, startHarness, TOKENS, unary } from '../testing/broker-harness';
import type { TestEndpoint } from '../testing/test-endpoint';
import { CONFIRMATION } from './uninstaller';

const LINUX = common.OperatingSystem.OPERATING_SYSTEM_LINUX;
const P = ms.UninstallPhase;

describe('Uninstall', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
  }, 60_000);
  afterEach(() => h?.close());

  const uninstall = (req: Partial<ms.UninstallRequest>, token: string = TOKENS.admin) => {
    const api = h.api(token);
    return unary(api.admin.uninstall.bind(api.admin), ms.UninstallRequest.fromPartial(req), api.metadata);
  };
  const progress = async () => {
    const api = h.api(TOKENS.admin);
    return (await unary(api.admin.getUninstallStatus.bind(api.admin), {}, api.metadata)).status!;
  };
  const removeToolsOf = (ep: TestEndpoint) =>
    waitFor(() => ep.received.map((m) => (m.message?.$case === 'action' ? m.message.value : undefined)).find((a) => a?.kind?.$case === 'removeTools'), { what: 'a Remove Tools action' });

  it('reports no uninstall before one starts, and a dry run plans per OS with the modules that depend on Direct Connect', async () => {
    expect((await progress()).phase).toBe(P.UNINSTALL_PHASE_UNSPECIFIED);
    const a = await h.endpoint('web-01');
    await h.endpoint('web-02');
    const api = h.api(TOKENS.user);
    const { session } = await unary(api.sessions.openSession.bind(api.sessions), ms.OpenSessionRequest.fromPartial({ target: { target: { $case: 'clientId', value: a.identity.clientId } }, moduleName: 'reveal' }), api.metadata);
    expect(session!.sessionId).toBeTruthy();
    const { status: plan } = await uninstall({ dryRun: true });
    expect(plan!.phase).toBe(P.UNINSTALL_PHASE_PLANNED);
    expect(plan!.endpoints).toEqual([{ os: LINUX, targeted: 2, succeeded: 0, failed: 0, pending: 2 }]);
    expect(plan!.warnings).toEqual(['modules reveal opened sessions in the last 30 days and depend on Direct Connect; they lose their endpoint sessions']);
    // Nothing changed: no action went out and nothing is recorded as started.
    expect(a.received.some((m) => m.message?.$case === 'action' && m.message.value.kind?.$case === 'removeTools')).toBe(false);
    expect((await progress()).phase).toBe(P.UNINSTALL_PHASE_UNSPECIFIED);
  });

  it('refuses without the exact confirmation, naming the field, and changes nothing', async () => {
    await h.endpoint('web-01');
    for (const confirmation of ['', 'uninstall direct connect', 'yes']) {
      const err = await uninstall({ confirmation }).then(() => undefined, (e: { code: number; details: string }) => e);
      expect(err?.code).toBe(status.FAILED_PRECONDITION);
      expect(err?.details).toContain(`confirmation: must be exactly "${CONFIRMATION}"`);
    }
    expect((await progress()).phase).toBe(P.UNINSTALL_PHASE_UNSPECIFIED);
    // SETTINGS_WRITE: a user may not uninstall.
    const denied = await uninstall({ confirmation: CONFIRMATION }, TOKENS.user).then(() => undefined, (e: { code: number }) => e);
    expect(denied?.code).toBe(status.PERMISSION_DENIED);
  });

  it('sends Remove Tools to online endpoints and to others as they reconnect, survives a restart, and removes the server data when the endpoint timeout passes', async () => {
    const online = await h.endpoint('web-01');
    const later = await h.endpoint('web-02');
    const never = await h.endpoint('web-03');
    // web-02 and web-03 go away before the uninstall starts.
    for (const ep of [later, never]) {
      ep.disconnect();
      await waitFor(() => !h.broker.hub.isConnected(ep.identity.clientId), { what: 'the channel closed' });
    }
    const startedAt = h.clock.now();
    const { status: started } = await uninstall({ confirmation: CONFIRMATION, endpointTimeout: { seconds: 3600, nanos: 0 }, removeRecorderData: true });
    expect(started!.phase).toBe(P.UNINSTALL_PHASE_REMOVING_FROM_ENDPOINTS);
    expect(started!.startTime!.getTime()).toBe(startedAt);
    expect(started!.endpoints).toEqual([{ os: LINUX, targeted: 3, succeeded: 0, failed: 0, pending: 3 }]);

    const action = await removeToolsOf(online);
    expect(action.kind).toEqual({ $case: 'removeTools', value: { removeRecorderData: true } });
    expect(action.expireTime!.getTime()).toBe(startedAt + 3_600_000);
    online.reportStatus(action.actionId, common.ActionStatus.ACTION_STATUS_RUNNING);
    online.reportStatus(action.actionId, common.ActionStatus.ACTION_STATUS_SUCCEEDED, 'removed 7 path(s)');
    online.goodbye(gateway.GoodbyeReason.GOODBYE_REASON_TOOLS_REMOVED);
    online.disconnect();
    await waitFor(() => h.broker.registry.get(online.identity.clientId)?.status === 'REMOVED', { what: 'web-01 removed' });
    expect((await progress()).endpoints).toEqual([{ os: LINUX, targeted: 3, succeeded: 1, failed: 0, pending: 2 }]);
    expect(h.broker.events.list({ clientId: online.identity.clientId }).some((e) => e.kind === 'ENDPOINT_REMOVED')).toBe(true);

    // A second uninstall while this one runs is refused.
    const again = await uninstall({ confirmation: CONFIRMATION }).then(() => undefined, (e: { code: number; details: string }) => e);
    expect(again?.code).toBe(status.FAILED_PRECONDITION);
    expect(again?.details).toContain('an uninstall is already running');

    // The state is in broker.db: after a restart the uninstall carries on.
    await h.restart();
    expect((await progress()).phase).toBe(P.UNINSTALL_PHASE_REMOVING_FROM_ENDPOINTS);

    // web-02 comes back and gets its Remove Tools; it fails there, naming the file.
    later.reconnectClient();
    await later.connect();
    const second = await removeToolsOf(later);
    later.reportStatus(second.actionId, common.ActionStatus.ACTION_STATUS_ERROR, 'cannot remove /opt/dc/keys/k1.json: EACCES');
    await waitFor(async () => (await progress()).endpoints[0]!.failed === 1, { what: 'web-02 counted failed' });
    expect((await progress()).phase).toBe(P.UNINSTALL_PHASE_REMOVING_FROM_ENDPOINTS);

    // web-03 never returns: one minute before the timeout nothing moves, after it the server data goes.
    h.clock.advance(3_600_000 - 60_000);
    expect((await progress()).phase).toBe(P.UNINSTALL_PHASE_REMOVING_FROM_ENDPOINTS);
    h.clock.advance(60_000);
    const done = await progress();
    expect(done.phase).toBe(P.UNINSTALL_PHASE_DONE);
    expect(done.finishTime!.getTime()).toBe(startedAt + 3_600_000);
    expect(done.endpoints).toEqual([{ os: LINUX, targeted: 3, succeeded: 1, failed: 1, pending: 1 }]);
    expect(done.detail).toBe(`1 endpoint(s) did not answer within 60 min: ${never.identity.clientId}`);

    // Server data removed: no endpoints, sessions, alerts; the only event is the uninstall's end.
    expect(h.broker.registry.list()).toEqual([]);
    const count = (table: string) => (h.broker.db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
    expect([count('endpoints'), count('sessions'), count('alerts')]).toEqual([0, 0, 0]);
    expect(h.broker.events.list().map((e) => e.kind)).toEqual(['UNINSTALL_FINISHED']);
    expect(h.broker.events.list()[0]!.data).toMatchObject({ startedAt: new Date(startedAt).toISOString(), succeeded: 1, failed: 1, pending: 1 });
    const api = h.api(TOKENS.user);
    expect((await unary(api.endpoints.listEndpoints.bind(api.endpoints), ms.ListEndpointsRequest.fromPartial({}), api.metadata)).endpoints).toEqual([]);
    // The record is kept and survives a restart.
    await h.restart();
    expect((await progress()).phase).toBe(P.UNINSTALL_PHASE_DONE);
    later.close();
    never.close();
  });

  it('with no endpoint reporting the package, goes straight to DONE', async () => {
    const { status: s } = await uninstall({ confirmation: CONFIRMATION });
    expect(s!.phase).toBe(P.UNINSTALL_PHASE_DONE);
    expect(s!.endpoints).toEqual([]);
    expect(s!.detail).toBe('every targeted endpoint answered');
    expect(h.broker.events.list().map((e) => e.kind)).toEqual(['UNINSTALL_FINISHED']);
  });
});
