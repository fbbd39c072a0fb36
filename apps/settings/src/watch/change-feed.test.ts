// The change feed: snapshot, coalesced replay after a revision, live changes.
import { afterEach, describe, expect, it } from 'vitest';
import { openTestSettings, type TestSettings } from '../testing/test-settings';
import type { KindChange } from './change-feed';

let t: TestSettings;
afterEach(async () => t?.cleanup());

describe('change feed', () => {
  it('starts with the current value of each followed kind, then delivers live changes', () => {
    t = openTestSettings();
    const s = t.settings;
    const events: KindChange[] = [];
    const stop = s.changeFeed.subscribe({ sinceRevision: 0, kinds: ['log_level'] }, (e) => events.push(e));
    expect(events).toEqual([expect.objectContaining({ kind: 'log_level', snapshot: true })]);
    s.heartbeatPolicy.set('op', { ...s.heartbeatPolicy.get(), intervalSeconds: 60 }); // not followed
    const { revision } = s.logLevels.set('op', 'module-server', 'warn');
    expect(events.slice(1)).toEqual([expect.objectContaining({ kind: 'log_level', key: 'module-server', revision, snapshot: false })]);
    stop();
    s.logLevels.set('op', 'module-server', 'error');
    expect(events).toHaveLength(2);
  });

  it('replays what changed after a revision, once per kind, so a reconnecting watcher misses nothing', () => {
    t = openTestSettings();
    const s = t.settings;
    const r1 = s.logLevels.set('op', 'settings', 'debug').revision;
    s.logLevels.set('op', 'settings', 'trace');
    const policy = s.heartbeatPolicy.set('op', { ...s.heartbeatPolicy.get(), intervalSeconds: 60 }).revision;
    const last = s.logLevels.set('op', 'zone-proxy', 'warn').revision;
    const events: KindChange[] = [];
    s.changeFeed.subscribe({ sinceRevision: r1, kinds: [] }, (e) => events.push(e));
    expect(events.map((e) => [e.kind, e.revision])).toEqual([
      ['heartbeat_policy', policy],
      ['log_level', last],
    ]);
  });

  it('skips kinds nobody follows, such as users and tokens', () => {
    t = openTestSettings();
    const events: KindChange[] = [];
    t.settings.changeFeed.subscribe({ sinceRevision: 0, kinds: [] }, (e) => events.push(e));
    const before = events.length;
    t.settings.users.create('op', 'alice', ['USER']);
    expect(events).toHaveLength(before);
  });
});
