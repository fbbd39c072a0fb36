// The running recorder: drives the pipeline from a source and does the periodic work — process
// samples, retention, the runtime size limit, the CPU kill switch, DisableTrace (SPEC 2.4–2.6).
import type { FilterSet, SignalSet } from '@dc/filters';
import type { BatchWriter, MonitorDb, Retention } from '@dc/monitor-db';
import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { RecorderConfig } from '../config/load-config';
import { KillSwitch, type CpuSampler } from '../kill-switch/kill-switch';
import type { MtimeOf } from '../pipeline/confirm-writes';
import { Pipeline, type PipelineStats } from '../pipeline/pipeline';
import type { ProcSampler } from '../sampling/proc-sampler';
import { addCounters, type StoredCounters } from '../status/counters';

export interface RecorderDeps {
  readonly config: RecorderConfig;
  readonly db: MonitorDb;
  readonly log: Logger;
  readonly clock: () => number;
  /** The recorder's own CPU time (µs), for the kill switch. */
  readonly cpu: CpuSampler;
  readonly processors: number;
  /** /proc sampler; null disables process samples (replay). */
  readonly sampler: ProcSampler | null;
  readonly filters?: FilterSet;
  readonly signals?: SignalSet;
  readonly hashExecutables: boolean;
  /**
   * The paths in the input are this machine's files, so ConfirmFileWrites may stat them.
   * Default: `hashExecutables` (both are off when replaying another machine's log).
   */
  readonly localFiles?: boolean;
  /** File mtime for ConfirmFileWrites (default: stat); injected by tests. */
  readonly mtimeOf?: MtimeOf;
  /** Watch the recorder's own CPU (SPEC 2.5); off for `replay`, which runs flat out on purpose. */
  readonly killSwitch: boolean;
  /**
   * Run retention (MonitorDays, size limits, runtime limit). Off for `replay`: a replayed log is
   * usually older than MonitorDays, and the first cleanup would delete what was just ingested.
   */
  readonly retention: boolean;
  /**
   * Removes the recorder's audit rules when it disables itself (SPEC 2.5 cpuThreshold: "disables
   * the recorder and removes its audit rules"). Returns what it did, for the log.
   */
  readonly removeAuditRules?: () => string;
  /** Waits (throttle); injected so tests need not wait. */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** Why `run` returned. */
export type RunEnd = { readonly kind: 'end-of-input' } | { readonly kind: 'aborted' } | { readonly kind: 'disabled'; readonly reason: string };

export class Recorder {
  readonly pipeline: Pipeline;
  readonly writer: BatchWriter;
  readonly retention: Retention;
  readonly killSwitch: KillSwitch;
  private lastSample = 0;
  private disabledReason: string | null = null;
  private paused = false;
  private persisted: PipelineStats | undefined;
  private readonly end = new AbortController();
  private lastReset: number;
  private throttleWindow = { start: 0, lines: 0 };
  /** Times the throttle made the reader wait (SPEC 2.5 throttle). */
  throttled = 0;

  constructor(private readonly deps: RecorderDeps) {
    const c = deps.config;
    this.writer = deps.db.writer({
      batchWriteDelayMs: c.BatchWriteDelayMS,
      // SPEC 2.6 NewEventLimit bounds how many events are built before a save (less memory, more commits).
      maxBatchSize: Math.max(1, c.NewEventLimit),
      recordSignalMatches: c.RecordSignalMatches,
      onError: (err, n) => deps.log.error({ err, records: n }, 'a batch could not be saved to monitor.db and was dropped'),
    });
    this.pipeline = new Pipeline(
      {
        pendingEventCap: c.PendingEventCap,
        processExpirationSeconds: c.ProcessExpirationSeconds,
        mappingLowerToleranceMs: c.MappingLowerToleranceMS,
        mappingUpperToleranceMs: c.MappingUpperToleranceMS,
        eventQueueExpirationSeconds: c.EventQueueExpirationSeconds,
        families: { process: c.MonitorProcess, file: c.MonitorFiles, network: c.MonitorNetwork, security: c.MonitorSecurity },
        recordSignalMatches: c.DisableSignals ? 0 : c.RecordSignalMatches,
        hashExecutables: deps.hashExecutables,
        maxFileHandlesPerProcess: c.MaxFileHandlesPerProcess,
        confirmFileWrites: c.ConfirmFileWrites && (deps.localFiles ?? deps.hashExecutables),
      },
      {
        writer: this.writer,
        ...(deps.filters ? { filters: deps.filters } : {}),
        ...(deps.signals && !c.DisableSignals ? { signals: deps.signals } : {}),
        clock: deps.clock,
        log: deps.log,
        selfPid: process.pid,
        ...(deps.mtimeOf ? { mtimeOf: deps.mtimeOf } : {}),
      },
    );
    this.retention = deps.db.retention({
      monitorDays: c.MonitorDays,
      maxStorageSizeMB: c.maxSizeMB,
      maxRuntimeStorageSizeMB: c.MaxRuntimeStorageSizeMB,
      absoluteMaxStorageSizeMB: c.AbsoluteMaxStorageSizeMB,
      cleanPercentOverLimit: c.CleanPercentOverLimit,
      databaseCleanupIntervalMinutes: c.DatabaseCleanupIntervalMinutes,
      maxCleanTries: c.MaxCleanTries,
      databaseArchiveLimit: c.DatabaseArchiveLimit,
    });
    this.killSwitch = new KillSwitch(c, { clock: deps.clock, cpu: deps.cpu, processors: deps.processors });
    this.lastSample = deps.clock();
    this.lastReset = deps.clock();
  }

  /** Why the recorder is disabled (DisableTrace in recorder.json or in monitor.db), or null. */
  disabled(): string | null {
    if (this.deps.config.DisableTrace) return 'DisableTrace is set in recorder.json';
    const s = this.deps.db.disableTraceStatus();
    return s.disabled ? (s.reason ?? 'disabled') : null;
  }

  /**
   * Reads batches of audit lines until the source ends, `signal` aborts, or the recorder disables
   * itself (kill switch, runtime size limit). While DisableTrace is set (recorder --stop), input
   * is read and discarded, so audispd does not block; `recorder --start` resumes recording.
   */
  async run(source: AsyncIterable<string[]>, opts: { signal?: AbortSignal; housekeepingMs?: number } = {}): Promise<RunEnd> {
    const every = opts.housekeepingMs ?? 1000;
    const timer = setInterval(() => this.housekeeping(), every);
    const onAbort = () => this.end.abort();
    opts.signal?.addEventListener('abort', onAbort);
    this.paused = this.disabled() !== null;
    if (this.paused) this.deps.log.warn({ reason: this.disabled() }, 'recorder is stopped; input is discarded until `recorder --start`');
    const iterator = source[Symbol.asyncIterator]();
    const aborted = abortedPromise(this.end.signal);
    try {
      for (;;) {
        const next = await Promise.race([iterator.next(), aborted]);
        if (next === 'aborted' || next.done) break;
        if (this.paused) continue;
        this.pipeline.feed(next.value);
        if (this.deps.config.throttle) await this.throttle(next.value.length);
      }
    } finally {
      clearInterval(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      void iterator.return?.();
      this.pipeline.finish();
      this.persistCounters();
    }
    if (this.disabledReason) return { kind: 'disabled', reason: this.disabledReason };
    return this.end.signal.aborted ? { kind: 'aborted' } : { kind: 'end-of-input' };
  }

  /**
   * SPEC 2.5 throttle: spread recording over a longer period. At most NewEventLimit lines are
   * processed per second; the reader then waits, so a burst stays queued upstream (audispd's
   * q_depth of 32768, or the kernel backlog) instead of costing CPU now.
   */
  private async throttle(lines: number): Promise<void> {
    const budget = Math.max(1, this.deps.config.NewEventLimit);
    const now = this.deps.clock();
    const w = this.throttleWindow;
    if (now - w.start >= 1000) {
      w.start = now;
      w.lines = 0;
    }
    w.lines += lines;
    if (w.lines < budget) return;
    const wait = Math.max(0, w.start + 1000 - now);
    if (this.throttled++ % 60 === 0) this.deps.log.info({ linesPerSecond: budget, waitMs: wait }, 'throttling: recording is spread over a longer period');
    w.start = now + wait;
    w.lines = 0;
    await (this.deps.sleep ?? ((ms: number) => delay(ms)))(wait);
  }

  /** Periodic work; `run` calls it every second, tests call it with an injected clock. */
  housekeeping(): void {
    const now = this.deps.clock();
    try {
      this.pipeline.tick(now);
      const resetEvery = this.deps.config.ResetIntervalMinutes * 60_000;
      if (resetEvery > 0 && now - this.lastReset >= resetEvery) {
        this.lastReset = now;
        this.pipeline.reset();
        this.deps.log.info({ resetIntervalMinutes: this.deps.config.ResetIntervalMinutes }, 'periodic reset of the recorder state');
      }
      const why = this.disabled();
      if (why && !this.paused) {
        this.deps.log.warn({ reason: why }, 'recorder stopped (DisableTrace); input is discarded until `recorder --start`');
        this.writer.flush();
      } else if (!why && this.paused) {
        this.deps.log.info('recorder started again (DisableTrace cleared)');
      }
      this.paused = why !== null;
      if (!this.paused) this.sample(now);
      this.persistCounters();

      const cleanup = this.deps.retention ? this.retention.runDue(now) : null;
      if (cleanup) this.deps.log.info({ deletedByAge: cleanup.deletedByAge, deletedForSize: cleanup.deletedForSize, sizeAfterBytes: cleanup.sizeAfterBytes }, 'monitor.db cleanup ran');
      const limit = this.deps.retention ? this.retention.checkRuntimeLimit() : undefined;
      if (limit?.exceeded) return this.disable(limit.reason ?? 'monitor.db runtime size limit exceeded', false);

      const window = this.deps.killSwitch ? this.killSwitch.tick() : undefined;
      if (window?.violation) {
        this.deps.log.warn({ usage: window.usage, violations: window.violations, cpuKillEnabled: this.deps.config.cpuKillEnabled }, 'recorder CPU above cpuThreshold for a whole window');
      }
      if (window?.fire) this.disable(window.fire.reason, true);
    } catch (err) {
      this.deps.log.error({ err }, 'recorder housekeeping failed');
    }
  }

  /** SPEC 2.4: record why, remove the audit rules, stop; only an operator's `--start` undoes it. */
  disable(reason: string, setDisableTrace: boolean): void {
    if (this.disabledReason) return;
    this.disabledReason = reason;
    if (setDisableTrace) this.deps.db.setDisableTrace(reason);
    let rules = 'audit rules left in place (no remover configured)';
    try {
      if (this.deps.removeAuditRules) rules = this.deps.removeAuditRules();
    } catch (err) {
      rules = `removing the audit rules failed: ${(err as Error).message}`;
    }
    this.deps.log.error({ reason, rules }, 'recorder disabled itself; it stays stopped until `recorder --start`');
    this.end.abort();
  }

  private sample(now: number): void {
    const sampler = this.deps.sampler;
    const every = this.deps.config.processSampleIntervalSeconds * 1000;
    if (!sampler || every === 0 || now - this.lastSample < every) return;
    this.lastSample = now;
    for (const s of sampler.sample()) {
      if (s.cpuPercent <= 0 && s.pid !== process.pid) continue; // idle processes add rows, not history
      this.pipeline.offer(
        {
          kind: 'sample',
          time: now,
          process: { pid: s.pid, startTime: s.startTime, ppid: s.ppid, comm: s.comm },
          cpuPercent: s.cpuPercent,
          rssBytes: s.rssBytes,
          vmsBytes: s.vmsBytes,
          threads: s.threads,
        },
        'sample',
      );
    }
    this.pipeline.processesAlive(sampler.alive);
    // Processes the audit stream started and /proc no longer has: they exited (SPEC 2.6 ProcessExpirationSeconds).
    for (const pid of [...this.pipeline.tracker.pids()]) {
      if (!sampler.alive.has(pid)) {
        const p = this.pipeline.tracker.lookup(pid, now);
        if (p && p.exitedAt === undefined) {
          this.pipeline.exited(pid, now);
          this.pipeline.offer({ kind: 'process-exit', time: now, pid, startTime: p.startTime }, 'process');
        }
      }
    }
  }

  /** Adds this run's counters to the totals kept in monitor.db meta (for `recorder --status`). */
  persistCounters(): void {
    const now = this.pipeline.stats();
    addCounters(this.deps.db, now, this.persisted);
    this.persisted = now;
  }
}

function abortedPromise(signal: AbortSignal): Promise<'aborted'> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve('aborted');
    else signal.addEventListener('abort', () => resolve('aborted'), { once: true });
  });
}

export type { StoredCounters };
