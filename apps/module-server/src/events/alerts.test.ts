import { status } from '@grpc/grpc-js';
import { waitFor } from '@dc/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { moduleserver as ms } from '../contracts';
import { type Harness, startHarness, TOKENS, unary } from '../testing/broker-harness';

describe('AcknowledgeAlert', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  it('marks an active alert acknowledged (who, when, note), persisted and seen by ListAlerts and WatchAlerts', async () => {
    const raised = h.broker.events.raiseAlert('ep-ack-1', 'ENDPOINT_OFFLINE', 'ep-ack-1 missed 3 heartbeats')!;
    const api = h.api(TOKENS.user);
    const seen: ms.Alert[] = [];
    const watch = api.events.watchAlerts({ includeCurrent: false }, api.metadata);
    watch.on('data', (r: ms.WatchAlertsResponse) => seen.push(r.alert!));
    watch.on('error', () => undefined);
    // The stream is live once an alert raised now reaches it.
    await waitFor(() => {
      h.broker.events.clearAlert('ep-ack-probe', 'ENDPOINT_OFFLINE', 'probe');
      h.broker.events.raiseAlert('ep-ack-probe', 'ENDPOINT_OFFLINE', 'probe');
      return seen.some((a) => a.clientId === 'ep-ack-probe');
    }, { what: 'the watch stream open' });

    h.clock.advance(5_000);
    const ackAt = h.clock.now();
    const res = await unary(api.events.acknowledgeAlert.bind(api.events), { alertId: String(raised.id), note: 'looking into it' }, api.metadata);
    expect(res.alert).toMatchObject({ alertId: String(raised.id), state: ms.AlertState.ALERT_STATE_ACKNOWLEDGED, acknowledgedBy: 'user', note: 'looking into it', clientId: 'ep-ack-1' });
    expect(res.alert!.acknowledgeTime!.getTime()).toBe(ackAt);

    await waitFor(() => seen.some((a) => a.alertId === String(raised.id) && a.state === ms.AlertState.ALERT_STATE_ACKNOWLEDGED), { what: 'the acknowledgement on WatchAlerts' });
    watch.cancel();

    await h.restart();
    const api2 = h.api(TOKENS.readonly);
    const list = await unary(api2.events.listAlerts.bind(api2.events), { pageSize: 0, pageToken: '', states: [ms.AlertState.ALERT_STATE_ACKNOWLEDGED], kinds: [], clientId: 'ep-ack-1' }, api2.metadata);
    expect(list.alerts).toHaveLength(1);
    expect(list.alerts[0]).toMatchObject({ alertId: String(raised.id), acknowledgedBy: 'user', note: 'looking into it' });
    expect(list.alerts[0]!.acknowledgeTime!.getTime()).toBe(ackAt);
    // Still open: the condition has not ended, so ACTIVE-only lists leave it out.
    const active = await unary(api2.events.listAlerts.bind(api2.events), { pageSize: 0, pageToken: '', states: [ms.AlertState.ALERT_STATE_ACTIVE], kinds: [], clientId: 'ep-ack-1' }, api2.metadata);
    expect(active.alerts).toEqual([]);
    // No states = the open ones, acknowledged included.
    const open = await unary(api2.events.listAlerts.bind(api2.events), { pageSize: 0, pageToken: '', states: [], kinds: [], clientId: 'ep-ack-1' }, api2.metadata);
    expect(open.alerts.map((a) => a.alertId)).toEqual([String(raised.id)]);
    // The acknowledgement is an event of its own kind, filterable as such.
    const acks = await unary(api2.events.listEvents.bind(api2.events), { pageSize: 0, pageToken: '', kinds: [ms.EventKind.EVENT_KIND_ALERT_ACKNOWLEDGED], clientId: 'ep-ack-1' }, api2.metadata);
    expect(acks.events.map((e) => [e.kind, e.attributes.broker_kind])).toEqual([[ms.EventKind.EVENT_KIND_ALERT_ACKNOWLEDGED, 'ALERT_ACKNOWLEDGED']]);

    // When the condition ends, the alert clears by itself and keeps who acknowledged it.
    h.broker.events.clearAlert('ep-ack-1', 'ENDPOINT_OFFLINE', 'back online');
    const cleared = h.broker.events.alert(raised.id)!;
    expect([cleared.clearedBy, cleared.acknowledgedBy]).toEqual(['system', 'user']);
    const afterClear = await unary(api2.events.listAlerts.bind(api2.events), { pageSize: 0, pageToken: '', states: [], kinds: [], clientId: 'ep-ack-1' }, api2.metadata);
    expect(afterClear.alerts).toEqual([]);
    const clearedList = await unary(api2.events.listAlerts.bind(api2.events), { pageSize: 0, pageToken: '', states: [ms.AlertState.ALERT_STATE_CLEARED], kinds: [], clientId: 'ep-ack-1' }, api2.metadata);
    expect(clearedList.alerts).toMatchObject([{ alertId: String(raised.id), state: ms.AlertState.ALERT_STATE_CLEARED, acknowledgedBy: 'user', clearedBy: 'system' }]);
  });

  it('refuses an unknown alert with NOT_FOUND, a missing id with INVALID_ARGUMENT, a cleared alert with FAILED_PRECONDITION', async () => {
    const api = h.api(TOKENS.admin);
    const ack = (alertId: string) => unary(api.events.acknowledgeAlert.bind(api.events), { alertId, note: '' }, api.metadata);
    await expect(ack('999999')).rejects.toMatchObject({ code: status.NOT_FOUND, details: expect.stringMatching(/alert "999999" does not exist/) });
    await expect(ack('not-a-number')).rejects.toMatchObject({ code: status.NOT_FOUND });
    await expect(ack('')).rejects.toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringMatching(/alert_id/) });
    const a = h.broker.events.raiseAlert('ep-ack-2', 'ENDPOINT_OFFLINE', 'gone')!;
    h.broker.events.clearAlert('ep-ack-2', 'ENDPOINT_OFFLINE', 'back');
    await expect(ack(String(a.id))).rejects.toMatchObject({ code: status.FAILED_PRECONDITION });
  });

  it('needs SESSION_WRITE: a read-only user is refused and the alert stays active', async () => {
    const a = h.broker.events.raiseAlert('ep-ack-3', 'ENDPOINT_OFFLINE', 'gone')!;
    const api = h.api(TOKENS.readonly);
    await expect(unary(api.events.acknowledgeAlert.bind(api.events), { alertId: String(a.id), note: '' }, api.metadata)).rejects.toMatchObject({ code: status.PERMISSION_DENIED });
    expect(h.broker.events.alert(a.id)!.acknowledgedAt).toBeNull();
  });

  it('ClearAlert by hand records who cleared it and the note', async () => {
    const a = h.broker.events.raiseAlert('ep-ack-4', 'ENDPOINT_OFFLINE', 'gone')!;
    const api = h.api(TOKENS.admin);
    const res = await unary(api.events.clearAlert.bind(api.events), { alertId: String(a.id), note: 'decommissioned' }, api.metadata);
    expect(res.alert).toMatchObject({ state: ms.AlertState.ALERT_STATE_CLEARED, clearedBy: 'administrator', note: 'decommissioned' });
  });
});
