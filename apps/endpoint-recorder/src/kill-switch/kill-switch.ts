// The CPU kill switch (SPEC 2.4, 2.5): disables the recorder when its own CPU use stays too high.

/** The recorder's own CPU time so far, in microseconds (user + system, all threads). */
export type CpuSampler = () => number;

export interface KillSwitchSettings {
  /** Per-processor share of CPU, 0–1 (SPEC 2.5 cpuThreshold). */
  readonly cpuThreshold: number;
  /** Window length (SPEC 2.5 cpuThresholdMinutes). */
  readonly cpuThresholdMinutes: number;
  /** Consecutive violating windows before it fires (SPEC 2.5 cpuKillAfterNumViolations). */
  readonly cpuKillAfterNumViolations: number;
  /** When false, violations are reported but never stop the recorder (SPEC 2.5 cpuKillEnabled). */
  readonly cpuKillEnabled: boolean;
}

export interface KillSwitchDeps {
  readonly clock: () => number;
  readonly cpu: CpuSampler;
  /** Processors on this endpoint; the threshold is per processor. */
  readonly processors: number;
}

/** What one completed window measured. */
export interface WindowReport {
  readonly usage: number;
  readonly violation: boolean;
  readonly violations: number;
  /** Set when this window makes the switch fire. */
  readonly fire?: { readonly reason: string };
}

/**
 * Pure decision logic: call `tick()` as often as you like; once per elapsed window it measures
 * CPU time / (wall time × processors) and counts consecutive windows above the threshold.
 * A window at or below the threshold resets the count.
 */
export class KillSwitch {
  private windowStart: number;
  private cpuAtStart: number;
  private violations = 0;
  private fired = false;

  constructor(
    private readonly settings: KillSwitchSettings,
    private readonly deps: KillSwitchDeps,
  ) {
    this.windowStart = deps.clock();
    this.cpuAtStart = deps.cpu();
  }

  get windowMs(): number {
    return this.settings.cpuThresholdMinutes * 60_000;
  }

  /** Returns the report of a window that just ended, or undefined while one is still running. */
  tick(): WindowReport | undefined {
    const now = this.deps.clock();
    const elapsed = now - this.windowStart;
    if (elapsed < this.windowMs || this.fired) return undefined;
    const cpu = this.deps.cpu();
    const usage = (cpu - this.cpuAtStart) / 1000 / (elapsed * this.deps.processors);
    this.windowStart = now;
    this.cpuAtStart = cpu;
    const violation = usage > this.settings.cpuThreshold;
    this.violations = violation ? this.violations + 1 : 0;
    const report = { usage, violation, violations: this.violations };
    if (!violation || this.violations < this.settings.cpuKillAfterNumViolations || !this.settings.cpuKillEnabled) {
      return report;
    }
    this.fired = true;
    const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
    return {
      ...report,
      fire: {
        reason:
          `CPU kill switch: recorder used ${pct(usage)} per processor over ${this.settings.cpuThresholdMinutes} min, ` +
          `above cpuThreshold ${pct(this.settings.cpuThreshold)} for ${this.violations} consecutive window(s) ` +
          `(cpuKillAfterNumViolations ${this.settings.cpuKillAfterNumViolations})`,
      },
    };
  }
}

/** The real sampler: this process's CPU time from the OS. */
export const processCpuSampler: CpuSampler = () => {
  const u = process.cpuUsage();
  return u.user + u.system;
};
