// MonitorDb: the endpoint's open monitor.db — writers, retention, queries, integrity check,
// DisableTrace bookkeeping and Recreate Database (SPEC 2.2, 2.5, 2.6, 2.10).
import { existsSync, statSync } from 'node:fs';
import { Connection } from './connection';
import { InvalidMonitorInput, MonitorDbClosed } from './errors';
import { checkDatabase, type IntegrityOptions, type IntegrityResult } from './integrity';
import type { EventFamily, SignalDefinitionRecord } from './records';
import {
  countsByFamily,
  fileHistory,
  processHistory,
  queryEvents,
  type EventPage,
  type EventQuery,
  type FileHistoryQuery,
  type ProcessHistoryEntry,
  type ProcessHistoryQuery,
} from './queries/query-events';
import type { EventRowByFamily, FileEventRow } from './queries/rows';
import { moveAside, pruneMovedAside } from './retention/db-files';
import { Retention, type RetentionOptions } from './retention/retention';
import { BatchWriter, type BatchWriterOptions, type WriterHost } from './writer/batch-writer';

/** Time source; injected so tests drive retention and meta timestamps instead of sleeping. */
export interface Clock {
  now(): number;
}

/** The subset of a pino logger this library uses. */
export interface MonitorDbLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface OpenMonitorDbOptions {
  /** monitor.db path (SPEC 2.5 dbLocation, resolved by the caller). */
  path: string;
  clock?: Clock;
  log?: MonitorDbLog;
}

/** Whether the recorder is disabled (DisableTrace, SPEC 2.6) and why. */
export interface DisableTraceStatus {
  disabled: boolean;
  reason: string | null;
  since: number | null;
}

export interface RecreateResult {
  /** Where the old file went, or null when it was deleted (or there was none). */
  movedTo: string | null;
}

const systemClock: Clock = { now: () => Date.now() };
const silentLog: MonitorDbLog = { info: () => {}, warn: () => {}, error: () => {} };

/** Corrupt copies kept after Recreate Database, for a support package; older ones are deleted. */
const CORRUPT_COPIES_KEPT = 1;

/** Opens (creating and migrating as needed) monitor.db. Throws MonitorDbCorrupt for a damaged file. */
export function openMonitorDb(options: OpenMonitorDbOptions): MonitorDb {
  return new MonitorDb(options);
}

/**
 * Recreate Database (SPEC 2.10) for a file that cannot even be opened: moves it aside as
 * `<path>.corrupt-<stamp>` (keeping only the newest such copy) and opens a fresh database.
 */
export function recreateMonitorDb(options: OpenMonitorDbOptions & { reason?: string }): { db: MonitorDb } & RecreateResult {
  const clock = options.clock ?? systemClock;
  const movedTo = existsSync(options.path) ? moveAside(options.path, 'corrupt', clock.now()) : null;
  pruneMovedAside(options.path, 'corrupt', CORRUPT_COPIES_KEPT);
  const db = new MonitorDb(options);
  db.recordRecreation(options.reason ?? 'recreated', movedTo);
  return { db, movedTo };
}

export class MonitorDb {
  readonly path: string;
  readonly clock: Clock;
  readonly log: MonitorDbLog;
  private conn: Connection | null;
  private readonly writers = new Set<BatchWriter>();

  /** @internal Use openMonitorDb(). */
  constructor(options: OpenMonitorDbOptions) {
    if (typeof options.path !== 'string' || options.path === '') {
      throw new InvalidMonitorInput('path', 'must be a non-empty file path', options.path);
    }
    this.path = options.path;
    this.clock = options.clock ?? systemClock;
    this.log = options.log ?? silentLog;
    this.conn = new Connection(this.path);
    this.initMeta();
  }

  /** @internal The open connection; it changes after an archive or a recreate. */
  connection(): Connection {
    if (!this.conn) throw new MonitorDbClosed(this.path);
    return this.conn;
  }

  /** A batched writer (SPEC 2.6 BatchWriteDelayMS). Close it (or the database) to save what is queued. */
  writer(options: BatchWriterOptions = {}): BatchWriter {
    const host: WriterHost = {
      connection: () => this.connection(),
      now: () => this.clock.now(),
      forget: (w) => this.writers.delete(w),
    };
    const writer = new BatchWriter(host, options);
    this.writers.add(writer);
    return writer;
  }

  /** Retention: MonitorDays, size limits, cleanup, archive, runtime limit (SPEC 2.5, 2.6). */
  retention(options: RetentionOptions = {}): Retention {
    return new Retention(this, options);
  }

  queryEvents<F extends EventFamily>(query: EventQuery<F>): EventPage<EventRowByFamily[F]> {
    return queryEvents(this.connection(), query);
  }

  /** The history of one path (v_file_history as typed rows): its events and renames to or from it. */
  fileHistory(query: FileHistoryQuery): FileEventRow[] {
    return fileHistory(this.connection(), query);
  }

  processHistory(query: ProcessHistoryQuery): ProcessHistoryEntry[] {
    return processHistory(this.connection(), query);
  }

  countsByFamily(): Record<EventFamily, number> {
    return countsByFamily(this.connection());
  }

  /** Bytes the database occupies: its pages plus the current WAL file. */
  sizeBytes(): number {
    const conn = this.connection();
    const pages = (conn.stmts.pageCount.get() as number) * (conn.db.pragma('page_size', { simple: true }) as number);
    return pages + walBytes(this.path);
  }

  /** PRAGMA quick_check (or integrity_check with full) plus schema and foreign-key checks. */
  integrityCheck(options: IntegrityOptions = {}): IntegrityResult {
    return checkDatabase(this.connection().db, options);
  }

  getMeta(key: string): string | undefined {
    return (this.connection().stmts.getMeta.get(key) as string | null | undefined) ?? undefined;
  }

  setMeta(key: string, value: string): void {
    this.connection().stmts.setMeta.run(key, value, this.clock.now());
  }

  /** Records that the recorder disabled itself (DisableTrace, SPEC 2.4/2.6) and why. */
  setDisableTrace(reason: string): void {
    const s = this.connection().stmts;
    const now = this.clock.now();
    this.connection().db.transaction(() => {
      s.setMeta.run('disable_trace', '1', now);
      s.setMeta.run('disable_reason', reason, now);
      s.setMeta.run('disabled_at', String(now), now);
    })();
    this.log.warn({ reason }, 'recorder disabled (DisableTrace set)');
  }

  /** The operator restarted the recorder by hand (SPEC 2.4): clear DisableTrace. */
  clearDisableTrace(): void {
    const s = this.connection().stmts;
    const now = this.clock.now();
    this.connection().db.transaction(() => {
      s.setMeta.run('disable_trace', '0', now);
      s.setMeta.run('disable_reason', null, now);
      s.setMeta.run('disabled_at', null, now);
    })();
  }

  disableTraceStatus(): DisableTraceStatus {
    const since = this.getMeta('disabled_at');
    return {
      disabled: this.getMeta('disable_trace') === '1',
      reason: this.getMeta('disable_reason') ?? null,
      since: since === undefined ? null : Number(since),
    };
  }

  /** Replaces the stored signal definitions (RecordSignalDefinitions, SPEC 2.6) in one transaction. */
  recordSignalDefinitions(definitions: readonly SignalDefinitionRecord[]): void {
    definitions.forEach((d, i) => {
      if (typeof d?.name !== 'string' || d.name === '') throw new InvalidMonitorInput(`definitions[${i}].name`, 'must be a non-empty string', d?.name);
      if (d.definition === undefined) throw new InvalidMonitorInput(`definitions[${i}].definition`, 'is required', undefined);
    });
    const s = this.connection().stmts;
    const now = this.clock.now();
    this.connection().db.transaction(() => {
      s.deleteSignalDefinitions.run();
      for (const d of definitions) {
        s.insertSignalDefinition.run({ name: d.name, severity: d.severity ?? null, definition: JSON.stringify(d.definition), recorded_at: now });
      }
    })();
  }

  /**
   * Recreate Database (SPEC 2.10): saves what writers hold if it can, closes, moves the file
   * aside as `<path>.corrupt-<stamp>` (keeping only the newest such copy), opens a fresh one.
   * Writers stay usable and write to the new file.
   */
  recreate(reason = 'recreate requested'): RecreateResult {
    let movedTo: string | null = null;
    this.replaceFile((now) => {
      movedTo = moveAside(this.path, 'corrupt', now);
      pruneMovedAside(this.path, 'corrupt', CORRUPT_COPIES_KEPT);
    });
    this.recordRecreation(reason, movedTo);
    this.log.warn({ reason, movedTo }, 'monitor.db recreated');
    return { movedTo };
  }

  /** @internal Closes the file, lets `move` dispose of it, and opens a fresh one in its place. */
  replaceFile(move: (now: number) => void): void {
    for (const w of this.writers) {
      try {
        w.flush();
      } catch (err) {
        this.log.error({ err }, 'could not save queued records before replacing monitor.db');
      }
    }
    const old = this.connection();
    try {
      old.close();
    } catch (err) {
      this.log.error({ err }, 'closing monitor.db failed');
    }
    this.conn = null;
    try {
      move(this.clock.now());
    } finally {
      // A fresh file after a move; the same file again when the move failed.
      this.conn = new Connection(this.path);
      this.initMeta();
    }
  }

  /** @internal */
  recordRecreation(reason: string, movedTo: string | null): void {
    this.setMeta('recreated_at', String(this.clock.now()));
    this.setMeta('recreate_reason', movedTo ? `${reason} (old file: ${movedTo})` : reason);
  }

  /** Saves what every writer holds, then closes. */
  close(): void {
    for (const w of [...this.writers]) {
      try {
        w.close();
      } catch (err) {
        this.log.error({ err }, 'could not save queued records at close');
      }
    }
    this.conn?.close();
    this.conn = null;
  }

  get isOpen(): boolean {
    return this.conn !== null;
  }

  private initMeta(): void {
    if (this.getMeta('created_at') === undefined) this.setMeta('created_at', String(this.clock.now()));
  }
}

function walBytes(path: string): number {
  try {
    return statSync(`${path}-wal`).size;
  } catch {
    return 0;
  }
}
