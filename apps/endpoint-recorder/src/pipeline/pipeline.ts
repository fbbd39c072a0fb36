// The recording pipeline (DESIGN flow 8): audit text → events → filters/watchlist → signals →
// PendingEventCap gate → batched writes to monitor.db.
import { AuditAssembler, type AuditEvent, type AuditStats, type FileEvent } from '@dc/audit';
import type { FilterSet, SignalSet } from '@dc/filters';
import type { BatchWriter, EventFamily, FileEventRecord, MonitorRecord } from '@dc/monitor-db';
import type { Logger } from 'pino';
import { WriteConfirmer, type MtimeOf, type WriteConfirmStats } from './confirm-writes';
import { ExeHashCache } from './exe-hash-cache';
import { FileHandleTable, type FileHandleStats } from './file-handles';
import { ProcessTracker } from './process-tracker';
import { failedExec, familyOf, toFileRecord, toNetworkRecord, toProcessStart, toSecurityRecord, type SkipReason } from './to-monitor-record';

export interface PipelineSettings {
  /** SPEC 2.6 PendingEventCap: records in flight (queued, unsaved) beyond which new ones are dropped; 0 = no cap. */
  readonly pendingEventCap: number;
  readonly processExpirationSeconds: number;
  readonly mappingLowerToleranceMs: number;
  readonly mappingUpperToleranceMs?: number;
  /** Wall-clock time after which an incomplete audit event is emitted anyway (EventQueueExpirationSeconds). */
  readonly eventQueueExpirationSeconds: number;
  /** Families switched on (SPEC 2.6 MonitorFiles, MonitorNetwork…). */
  readonly families: Readonly<Record<'process' | 'file' | 'network' | 'security', boolean>>;
  /** SPEC 2.6 RecordSignalMatches: signal names attached to a record (the writer keeps that many per signal). */
  readonly recordSignalMatches: number;
  /** Hash executables on exec (off when replaying another machine's log: its files are not here). */
  readonly hashExecutables: boolean;
  /** SPEC 2.6 MaxFileHandlesPerProcess: descriptors tracked per process (0 = none); default 500. */
  readonly maxFileHandlesPerProcess?: number;
  /**
   * SPEC 2.6 ConfirmFileWrites: record a file write only if the file's mtime changed since the
   * last write seen for that path (needs the log's files to be this machine's: off for replay).
   */
  readonly confirmFileWrites?: boolean;
}

export interface PipelineDeps {
  readonly writer: BatchWriter;
  readonly filters?: FilterSet;
  readonly signals?: SignalSet;
  readonly clock: () => number;
  readonly log: Logger;
  /** Events of this pid are the recorder's own writes: never recorded (no feedback loop). */
  readonly selfPid?: number;
  /** File mtime for ConfirmFileWrites (default: stat); injected by tests. */
  readonly mtimeOf?: MtimeOf;
}

/** Per-family counters of one run. */
export interface FamilyCounts {
  recorded: number;
  /** Dropped by filters.json / <module>_filters.json. */
  filtered: number;
  /** Dropped because PendingEventCap was reached. */
  dropped: number;
  /** The family is switched off (Monitor* = 0). */
  disabled: number;
  /** Not recordable (failed exec, local socket…), by reason. */
  skipped: number;
}

export interface PipelineStats {
  readonly audit: AuditStats;
  readonly families: Readonly<Record<string, FamilyCounts>>;
  /** Events of kinds the recorder does not store (`other`). */
  readonly otherEvents: number;
  readonly ownEvents: number;
  readonly skippedByReason: Readonly<Record<string, number>>;
  readonly signalMatches: number;
  readonly dropped: number;
  readonly recorded: number;
  readonly trackedProcesses: number;
  readonly exeHashes: { hits: number; misses: number };
  /** MaxFileHandlesPerProcess at work: descriptors held, evicted, paths they supplied. */
  readonly fileHandles: FileHandleStats;
  /** ConfirmFileWrites at work (zeros when off). */
  readonly writeConfirmation: WriteConfirmStats;
}

const zero = (): FamilyCounts => ({ recorded: 0, filtered: 0, dropped: 0, disabled: 0, skipped: 0 });

export class Pipeline {
  private readonly assembler: AuditAssembler;
  readonly tracker: ProcessTracker;
  private readonly hashes = new ExeHashCache();
  private readonly handles: FileHandleTable;
  private readonly confirmer: WriteConfirmer | undefined;
  private readonly counts: Record<string, FamilyCounts> = { process: zero(), file: zero(), network: zero(), security: zero() };
  private readonly skipped: Record<string, number> = {};
  private other = 0;
  private own = 0;
  private signalMatches = 0;

  constructor(
    private readonly settings: PipelineSettings,
    private readonly deps: PipelineDeps,
  ) {
    this.tracker = new ProcessTracker({
      processExpirationSeconds: settings.processExpirationSeconds,
      mappingLowerToleranceMs: settings.mappingLowerToleranceMs,
      ...(settings.mappingUpperToleranceMs === undefined ? {} : { mappingUpperToleranceMs: settings.mappingUpperToleranceMs }),
    });
    this.handles = new FileHandleTable(settings.maxFileHandlesPerProcess ?? 500, settings.processExpirationSeconds * 1000);
    this.confirmer = settings.confirmFileWrites ? new WriteConfirmer(deps.mtimeOf) : undefined;
    this.assembler = new AuditAssembler(
      {
        onEvent: (e) => this.handle(e),
        onError: (err) => deps.log.debug({ line: err.line, reason: err.reason }, 'malformed audit line skipped'),
      },
      {
        clock: deps.clock,
        timeoutMs: settings.eventQueueExpirationSeconds * 1000,
        ...(settings.pendingEventCap > 0 ? { maxOpenEvents: settings.pendingEventCap } : {}),
      },
    );
  }

  /** Feeds lines of audit text (one record each, no newline). */
  feed(lines: readonly string[]): void {
    for (const line of lines) this.assembler.push(line);
    this.assembler.expire();
  }

  /** Periodic housekeeping: late events and expired processes. */
  tick(now = this.deps.clock()): void {
    this.assembler.expire();
    this.tracker.expire(now);
    this.handles.expire(now);
  }

  /** Descriptor tables of processes `/proc` no longer lists are dropped (the sampler's listing). */
  processesAlive(alive: ReadonlySet<number>): void {
    this.handles.keepOnly(alive);
  }

  /** A process is gone (the sampler saw `/proc/<pid>` vanish): its descriptors with it. */
  exited(pid: number, time: number): void {
    this.tracker.exited(pid, time);
    this.handles.exited(pid);
  }

  /** End of input: emits open events and saves everything queued. */
  finish(): void {
    this.assembler.flush();
    this.deps.writer.flush();
  }

  /**
   * SPEC 2.6 ResetIntervalMinutes: saves what is queued and drops the in-memory caches (process
   * table, exe hashes), so state that went stale or grew cannot outlive one interval.
   */
  reset(): void {
    this.deps.writer.flush();
    this.tracker.clear();
    this.hashes.clear();
    this.handles.clear();
    this.confirmer?.clear();
  }

  /** Queues a record not produced by the audit stream (process samples), under the same cap. */
  offer(record: MonitorRecord, family: string): boolean {
    const cap = this.settings.pendingEventCap;
    if (cap > 0 && this.deps.writer.pending >= cap) {
      (this.counts[family] ??= zero()).dropped++;
      return false;
    }
    this.deps.writer.add(record);
    return true;
  }

  private handle(event: AuditEvent): void {
    const family = familyOf(event);
    const pid = event.process.pid;
    const own = pid !== undefined && pid === this.deps.selfPid;
    // Opens, dups and closes (any family, filtered or not) keep the descriptor table right.
    const fdPath = own || !this.settings.families.file ? undefined : this.handles.observe(event, this.deps.clock());
    if (family === undefined) {
      this.other++;
      return;
    }
    const counts = this.counts[family];
    if (!this.settings.families[family as keyof PipelineSettings['families']]) {
      counts.disabled++;
      return;
    }
    if (own) {
      this.own++;
      return;
    }
    if (fdPath !== undefined) event = { ...(event as FileEvent), path: fdPath };
    if (this.deps.filters && !this.deps.filters.decide(event as unknown as Record<string, unknown>, family).keep) {
      counts.filtered++;
      return;
    }
    const record = this.toRecord(event);
    if (typeof record === 'string') {
      counts.skipped++;
      this.skipped[record] = (this.skipped[record] ?? 0) + 1;
      return;
    }
    if (record.kind === 'file' && fdPath !== undefined) record.details = { ...record.details, pathFromFd: true };
    if (record.kind === 'file' && record.operation === 'write' && this.confirmer && !this.confirmWrite(record)) return;
    if (this.deps.signals && this.settings.recordSignalMatches > 0) {
      const matches = this.deps.signals.match(event as unknown as Record<string, unknown>, family);
      if (matches.length) {
        this.signalMatches += matches.length;
        (record as { signals?: readonly string[] }).signals = matches.map((m) => m.name);
      }
    }
    if (this.offer(record, family)) counts.recorded++;
  }

  private toRecord(event: AuditEvent): MonitorRecord | SkipReason {
    const pid = event.process.pid;
    const startTime = pid === undefined ? undefined : this.tracker.lookup(pid, event.timestamp)?.startTime;
    switch (event.kind) {
      case 'process-start': {
        if (failedExec(event.process) || pid === undefined) return toProcessStart(event, undefined);
        const sha = this.settings.hashExecutables && event.exe ? this.hashes.sha256(event.exe) : undefined;
        this.tracker.started({ pid, startTime: event.timestamp, exe: event.exe, exeSha256: sha });
        return toProcessStart(event, sha);
      }
      case 'file':
        return toFileRecord(event, startTime);
      case 'network':
        return toNetworkRecord(event, startTime);
      case 'security':
        return toSecurityRecord(event, startTime);
      default:
        return 'other-network-op';
    }
  }

  /** ConfirmFileWrites: false when the write did not change the file's mtime (counted, dropped). */
  private confirmWrite(record: FileEventRecord): boolean {
    const check = this.confirmer!.check(record.path);
    if (check.verdict === 'unchanged') return false;
    record.details = { ...record.details, ...(check.verdict === 'missing' ? { mtimeUnconfirmed: 'file no longer exists' } : { mtime: check.mtime }) };
    return true;
  }

  stats(): PipelineStats {
    let dropped = 0;
    let recorded = 0;
    for (const c of Object.values(this.counts)) {
      dropped += c.dropped;
      recorded += c.recorded;
    }
    return {
      audit: { ...this.assembler.stats },
      families: structuredClone(this.counts),
      otherEvents: this.other,
      ownEvents: this.own,
      skippedByReason: { ...this.skipped },
      signalMatches: this.signalMatches,
      dropped,
      recorded,
      trackedProcesses: this.tracker.size,
      exeHashes: { hits: this.hashes.hits, misses: this.hashes.misses },
      fileHandles: this.handles.stats(),
      writeConfirmation: this.confirmer?.stats() ?? { unconfirmed: 0, missing: 0, rememberedPaths: 0 },
    };
  }
}

export type { EventFamily };
