// The kill switch driven by a fake clock and a scripted CPU sampler.
import { describe, expect, it } from 'vitest';
import { KillSwitch, type KillSwitchSettings } from './kill-switch';

const base: KillSwitchSettings = { cpuThreshold: 0.25, cpuThresholdMinutes: 1, cpuKillAfterNumViolations: 1, cpuKillEnabled: true };

/** A fake endpoint: advancing the clock burns `share` of `processors` CPUs. */
function rig(settings: Partial<KillSwitchSettings>, processors = 2) {
  let now = 1_000_000;
  let cpuMicros = 0;
  const ks = new KillSwitch({ ...base, ...settings }, { clock: () => now, cpu: () => cpuMicros, processors });
  return {
    ks,
    run(ms: number, share: number) {
      now += ms;
      cpuMicros += ms * 1000 * processors * share;
      return ks.tick();
    },
  };
}

describe('KillSwitch', () => {
  it('does nothing before a window has elapsed', () => {
    const r = rig({});
    expect(r.run(59_999, 0.9)).toBeUndefined();
  });

  it('fires after one window above cpuThreshold by default, with a reason naming the numbers', () => {
    const r = rig({});
    const report = r.run(60_000, 0.3);
    expect(report?.usage).toBeCloseTo(0.3);
    expect(report?.fire?.reason).toBe(
      'CPU kill switch: recorder used 30.0% per processor over 1 min, above cpuThreshold 25.0% for 1 consecutive window(s) (cpuKillAfterNumViolations 1)',
    );
    expect(r.run(60_000, 0.9)).toBeUndefined(); // fired once; it stays stopped
  });

  it('measures per processor: 40% of one CPU on four CPUs is 10%', () => {
    const r = rig({}, 4);
    expect(r.run(60_000, 0.1)).toMatchObject({ violation: false });
  });

  it('needs cpuKillAfterNumViolations consecutive windows, and a quiet window resets the count', () => {
    const r = rig({ cpuKillAfterNumViolations: 3, cpuThresholdMinutes: 5 });
    expect(r.run(300_000, 0.5)).toMatchObject({ violation: true, violations: 1 });
    expect(r.run(300_000, 0.5)?.violations).toBe(2);
    expect(r.run(300_000, 0.1)).toMatchObject({ violation: false, violations: 0 });
    expect(r.run(300_000, 0.5)?.fire).toBeUndefined();
    expect(r.run(300_000, 0.5)?.fire).toBeUndefined();
    expect(r.run(300_000, 0.5)?.fire?.reason).toContain('over 5 min');
  });

  it('never fires when cpuKillEnabled is false, but still reports violations', () => {
    const r = rig({ cpuKillEnabled: false });
    for (let i = 0; i < 5; i++) {
      const report = r.run(60_000, 1);
      expect(report).toMatchObject({ violation: true, violations: i + 1 });
      expect(report?.fire).toBeUndefined();
    }
  });

  it('uses the real elapsed time when ticked late', () => {
    const r = rig({});
    // 120 s at 20%: one late tick sees a 120 s window at 20%, not 60 s at 40%.
    expect(r.run(120_000, 0.2)).toMatchObject({ violation: false });
  });
});
