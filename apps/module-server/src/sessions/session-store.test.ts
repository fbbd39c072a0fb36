import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { brokerFixture, type BrokerFixture } from '../testing/broker-fixture';
import { ACTION_STATUSES, canMove } from './action-status';
import { SessionStore } from './session-store';

describe('session action status (SPEC 1.5)', () => {
  let f: BrokerFixture;
  let store: SessionStore;
  beforeEach(() => {
    f = brokerFixture();
    store = new SessionStore({ db: f.db, clock: f.clock, log: f.log });
  });
  afterEach(() => f.close());

  it('moves through Creating, Downloading, Running, Succeeded, Complete with the session status', () => {
    const s = store.create('ep-1', 'trace', 'alice');
    expect([s.actionStatus, s.sessionStatus]).toEqual(['CREATING', 'PENDING']);
    expect(store.move(s.sessionId, 'DOWNLOADING').sessionStatus).toBe('PENDING');
    expect(store.move(s.sessionId, 'RUNNING').sessionStatus).toBe('PENDING');
    f.clock.advance(500);
    const ok = store.move(s.sessionId, 'SUCCEEDED', '', { attached: true });
    expect(ok.sessionStatus).toBe('OPEN');
    expect(ok.attachedAt).toBe(f.clock.now());
    const done = store.move(s.sessionId, 'COMPLETE', 'closed by module');
    expect([done.sessionStatus, done.statusDetail]).toEqual(['CLOSED', 'closed by module']);
    expect(done.closedAt).toBe(f.clock.now());
  });

  it('refuses a transition the SPEC does not allow, naming both statuses', () => {
    const s = store.create('ep-1', 'trace', 'alice');
    store.move(s.sessionId, 'ERROR', 'endpoint refused');
    expect(() => store.move(s.sessionId, 'RUNNING')).toThrow(/cannot move from ERROR to RUNNING/);
    expect(store.require(s.sessionId).sessionStatus).toBe('FAILED');
  });

  it('allows no move out of Closed', () => {
    for (const to of ACTION_STATUSES) expect(canMove('CLOSED', to)).toBe(to === 'CLOSED');
  });

  it('lists every module\'s sessions newest first, with page tokens', () => {
    for (let i = 0; i < 5; i++) {
      f.clock.advance(1000);
      store.create(`ep-${i}`, i % 2 ? 'reveal' : 'trace', 'alice');
    }
    const first = store.list({ pageSize: 3 });
    expect(first.sessions.map((s) => s.clientId)).toEqual(['ep-4', 'ep-3', 'ep-2']);
    const second = store.list({ pageSize: 3, pageToken: first.nextPageToken });
    expect(second.sessions.map((s) => s.clientId)).toEqual(['ep-1', 'ep-0']);
    expect(second.nextPageToken).toBe('');
    expect(store.list({ module: 'reveal' }).sessions).toHaveLength(2);
  });
});
