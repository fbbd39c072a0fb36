import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { gateway } from '../contracts';
import { brokerFixture, type BrokerFixture, FACTS } from '../testing/broker-fixture';
import type { HeartbeatPolicy } from './heartbeat-policy';
import { Presence } from './presence';

describe('heartbeats and offline detection', () => {
  let f: BrokerFixture;
  let policy: HeartbeatPolicy;
  let presence: Presence;
  beforeEach(() => {
    f = brokerFixture();
    policy = { intervalSeconds: 60, missedHeartbeatsBeforeOffline: 3, missedHeartbeatsBeforeAlert: 5 };
    presence = new Presence({ registry: f.registry, events: f.events, clock: f.clock, log: f.log, policy: () => policy });
    f.registry.upsert('ep-1', { enrolment: 'ENROLLED' }, f.clock.now());
    presence.hello('ep-1', FACTS, { clockSkewMs: 0 });
  });
  afterEach(() => f.close());

  it('marks an endpoint online at its first hello, with an event', () => {
    expect(f.registry.require('ep-1').status).toBe('ONLINE');
    expect(f.events.list().map((e) => e.kind)).toEqual(['ENDPOINT_ONLINE']);
  });

  it('keeps an endpoint online while its heartbeats arrive', () => {
    for (let i = 0; i < 10; i++) {
      f.clock.advance(60_000);
      presence.heartbeat('ep-1');
      expect(presence.sweep().wentOffline).toEqual([]);
    }
    expect(f.registry.require('ep-1').status).toBe('ONLINE');
  });

  it('marks an endpoint offline after the missed-heartbeat threshold, with an event', () => {
    f.clock.advance(2 * 60_000 + 59_000);
    expect(presence.sweep().wentOffline).toEqual([]);
    f.clock.advance(1000);
    expect(presence.sweep().wentOffline).toEqual(['ep-1']);
    expect(f.registry.require('ep-1').status).toBe('OFFLINE');
    const offline = f.events.list().filter((e) => e.kind === 'ENDPOINT_OFFLINE');
    expect(offline).toHaveLength(1);
    expect(offline[0].data.missedHeartbeats).toBe(3);
    expect(presence.sweep().wentOffline).toEqual([]); // only once
  });

  it('raises an alert once the alert threshold passes, and only once', () => {
    f.clock.advance(4 * 60_000);
    expect(presence.sweep().alerted).toEqual([]);
    expect(f.events.alerts({ openOnly: true })).toEqual([]);
    f.clock.advance(60_000);
    expect(presence.sweep().alerted).toEqual(['ep-1']);
    f.clock.advance(60_000);
    expect(presence.sweep().alerted).toEqual([]);
    const open = f.events.alerts({ openOnly: true });
    expect(open).toHaveLength(1);
    expect(open[0].message).toContain('ws-01.corp.example');
  });

  it('never raises an alert when the alert threshold is unlimited', () => {
    policy = { ...policy, missedHeartbeatsBeforeAlert: null };
    f.clock.advance(1000 * 60_000);
    const r = presence.sweep();
    expect(r.wentOffline).toEqual(['ep-1']);
    expect(r.alerted).toEqual([]);
    expect(f.events.alerts()).toEqual([]);
  });

  it('clears the alert and records an event when the endpoint returns', () => {
    f.clock.advance(10 * 60_000);
    presence.sweep();
    presence.hello('ep-1', FACTS, { clockSkewMs: 0 });
    expect(f.registry.require('ep-1').status).toBe('ONLINE');
    expect(f.events.alerts({ openOnly: true })).toEqual([]);
    const kinds = f.events.list().map((e) => e.kind);
    expect(kinds).toEqual(['ENDPOINT_ONLINE', 'ENDPOINT_OFFLINE', 'ALERT_RAISED', 'ENDPOINT_ONLINE', 'ALERT_CLEARED']);
  });

  it('remembers the last disconnect reason', () => {
    presence.disconnected('ep-1', 'TLS_FAILURE', 'certificate expired');
    const e = f.registry.require('ep-1');
    expect(e.lastDisconnectReason).toBe('TLS_FAILURE');
    expect(e.lastDisconnectDetail).toBe('certificate expired');
    expect(e.connectedAt).toBeNull();
  });

  it('Goodbye MACHINE_SHUTDOWN: Stopped when the channel ends, with an event, never Offline nor alerted; Online again on return', () => {
    presence.goodbye('ep-1', gateway.GoodbyeReason.GOODBYE_REASON_MACHINE_SHUTDOWN, 'VM stopping');
    expect(f.registry.require('ep-1').status).toBe('ONLINE'); // nothing until the channel ends
    f.clock.advance(1000);
    presence.disconnected('ep-1', 'CLEAN_CLOSE', 'the endpoint closed the channel');
    const e = f.registry.require('ep-1');
    expect([e.status, e.statusSince, e.goodbyeReason]).toEqual(['STOPPED', f.clock.now(), 'MACHINE_SHUTDOWN']);
    expect(e.lastDisconnectDetail).toBe('goodbye MACHINE_SHUTDOWN: the machine is shutting down (VM stopping)');
    f.clock.advance(100 * 60_000);
    expect(presence.sweep()).toEqual({ wentOffline: [], alerted: [] });
    presence.hello('ep-1', FACTS, { clockSkewMs: 0 });
    expect(f.registry.require('ep-1').status).toBe('ONLINE');
    expect(f.events.list().map((ev) => ev.kind)).toEqual(['ENDPOINT_ONLINE', 'ENDPOINT_DISCONNECTED', 'ENDPOINT_STOPPED', 'ENDPOINT_ONLINE']);
    expect(f.events.alerts()).toEqual([]);
  });

  it('Goodbye TOOLS_REMOVED: Removed with an event, and an open offline alert is cleared', () => {
    f.clock.advance(10 * 60_000);
    presence.sweep();
    expect(f.events.alerts({ openOnly: true })).toHaveLength(1);
    presence.goodbye('ep-1', gateway.GoodbyeReason.GOODBYE_REASON_TOOLS_REMOVED, '');
    presence.disconnected('ep-1', 'TRANSPORT_ERROR', 'cancelled after the grace'); // a goodbye still counts
    const e = f.registry.require('ep-1');
    expect([e.status, e.lastDisconnectReason]).toEqual(['REMOVED', 'CLEAN_CLOSE']);
    expect(f.events.list().map((ev) => ev.kind).slice(-3)).toEqual(['ENDPOINT_DISCONNECTED', 'ENDPOINT_REMOVED', 'ALERT_CLEARED']);
    expect(f.events.alerts({ openOnly: true })).toEqual([]);
    f.clock.advance(100 * 60_000);
    expect(presence.sweep()).toEqual({ wentOffline: [], alerted: [] });
  });

  it('keeps registry, events and open alerts across a restart', () => {
    f.clock.advance(10 * 60_000);
    presence.sweep();
    f.reopen();
    presence = new Presence({ registry: f.registry, events: f.events, clock: f.clock, log: f.log, policy: () => policy });
    expect(f.registry.require('ep-1').status).toBe('OFFLINE');
    expect(f.registry.require('ep-1').hostname).toBe('ws-01.corp.example');
    f.clock.advance(60_000);
    expect(presence.sweep().alerted).toEqual([]); // the open alert survived: not raised twice
    presence.heartbeat('ep-1');
    expect(f.events.alerts({ openOnly: true })).toEqual([]);
  });

  it('writes heartbeats to broker.db in batches', () => {
    f.clock.advance(30_000);
    presence.heartbeat('ep-1');
    const at = f.clock.now();
    presence.sweep();
    f.reopen();
    expect(f.registry.require('ep-1').lastHeartbeatAt).toBe(at);
  });
});
