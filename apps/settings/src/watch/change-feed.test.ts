import { afterEach, describe, expect, it } from 'vitest';
import { openTestSettings, type TestSettings } from '../testing/test-settings';
import type { WatchEvent } from './change-feed';

let t: TestSettings;
afterEach(async () => t?.cleanup());

describe('change feed', () => {
  it('starts with a snapshot of current values, then delivers live changes', () => {
    t = openTestSettings();
    const s = t.settings;
    s.logLevels.set('op', 'module-server', 'debug');
    const events: WatchEvent[] = [];
    const stop = s.changeFeed.subscribe({ sinceRevision: 0, kinds: ['log_level'] }, (e) => events.push(e));
    expect(events).toEqual([expect.objectContaining({ action: 'snapshot', kind: 'log_level', key: 'module-server', value: { service: 'module-server', level: 'debug' } })]);
    s.heartbeatPolicy.set('op', { ...s.heartbeatPolicy.get(), intervalSeconds: 30 }); // another kind: not delivered
    s.logLevels.set('op', 'module-server', 'warn');
    expect(events.map((e) => [e.action, e.value])).toEqual([
      ['snapshot', { service: 'module-server', level: 'debug' }],
      ['update', { service: 'module-server', level: 'warn' }],
    ]);
    stop();
    s.logLevels.set('op', 'module-server', 'error');
    expect(events).toHaveLength(2);
  });

  it('replays every change after a revision, so a reconnecting watcher misses nothing', () => {
    t = openTestSettings();
    const s = t.settings;
    const r1 = s.logLevels.set('op', 'settings', 'debug').revision;
    s.logLevels.set('op', 'settings', 'trace');
    s.logLevels.set('op', 'zone-proxy', 'warn');
    const events: WatchEvent[] = [];
    s.changeFeed.subscribe({ sinceRevision: r1, kinds: [] }, (e) => events.push(e));
    expect(events.map((e) => [e.revision, e.key, (e.value as { level: string }).level])).toEqual([
      [r1 + 1, 'settings', 'trace'],
      [r1 + 2, 'zone-proxy', 'warn'],
    ]);
  });

  it('never sends a zone proxy provision secret', () => {
    t = openTestSettings();
    const events: WatchEvent[] = [];
    t.settings.changeFeed.subscribe({ sinceRevision: 0, kinds: ['zone_proxy'] }, (e) => events.push(e));
    t.settings.store.put('op', 'zone_proxy', 'z', { name: 'z', provisionSecret: 'v1:sealed' });
    expect(events[0].value).toEqual({ name: 'z', provisionSecret: '[redacted]' });
  });
});
