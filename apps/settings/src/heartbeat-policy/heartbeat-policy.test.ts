// Heartbeat policy defaults and ranges (SPEC 3).
import { afterEach, describe, expect, it } from 'vitest';
import { openTestSettings, type TestSettings } from '../testing/test-settings';
import { DEFAULT_HEARTBEAT_POLICY, type HeartbeatPolicy } from './heartbeat-policy';

let t: TestSettings;
afterEach(async () => t?.cleanup());

describe('heartbeat policy', () => {
  it('defaults to agent-initiated heartbeats every 30 s, offline after 3 missed', () => {
    t = openTestSettings();
    expect(t.settings.heartbeatPolicy.get()).toEqual(DEFAULT_HEARTBEAT_POLICY);
  });

  it('saves an unlimited alert threshold (never alert) for machines often shut down', () => {
    t = openTestSettings();
    const policy: HeartbeatPolicy = { intervalSeconds: 30, missedHeartbeatsBeforeOffline: 4, missedHeartbeatsBeforeAlert: null, direction: 'BIDIRECTIONAL' };
    t.settings.heartbeatPolicy.set('op', policy);
    expect(t.settings.heartbeatPolicy.get()).toEqual(policy);
  });

  it.each([
    [{ intervalSeconds: 0 }, 'intervalSeconds 0: must be a whole number from 5 to 3600'],
    [{ missedHeartbeatsBeforeOffline: 1.5 }, 'missedHeartbeatsBeforeOffline 1.5'],
    [{ missedHeartbeatsBeforeAlert: 2 }, 'missedHeartbeatsBeforeAlert 2: must be at least missedHeartbeatsBeforeOffline (3)'],
    [{ direction: 'SIDEWAYS' }, 'direction "SIDEWAYS": must be one of AGENT_INITIATED, MANAGER_INITIATED, BIDIRECTIONAL'],
  ])('refuses %j', (change, message) => {
    t = openTestSettings();
    expect(() => t.settings.heartbeatPolicy.set('op', { ...DEFAULT_HEARTBEAT_POLICY, ...change } as HeartbeatPolicy)).toThrow(message);
  });
});
