// Retention of monitor.db (SPEC 2.5, 2.6): MonitorDays, the size limit with
// CleanPercentOverLimit every DatabaseCleanupIntervalMinutes, archive after MaxCleanTries failed
// cleanups (keeping DatabaseArchiveLimit archives), and the MaxRuntimeStorageSizeMB kill limit.
import { performance } from 'node:perf_hooks';
import { InvalidMonitorInput } from '../errors';
import type { MonitorDb } from '../monitor-db';
import { TIMED_TABLES } from '../schema/migrations';
import { moveAside, pruneMovedAside } from './db-files';

export interface RetentionOptions {
  /** Days of data kept; 0 keeps data regardless of age. SPEC 2.6: 90, 0–65536. */
  monitorDays?: number;
  /**
   * The size limit in MB (MiB): recorder.json maxSizeMB (merged, SPEC 2.7) or MaxStorageSizeMB;
   * 0 = unlimited. SPEC 2.5/2.6: 1024.
   */
  maxStorageSizeMB?: number;
  /** Exceeded while running → DisableTrace and exit. SPEC 2.6: 2 × MaxStorageSizeMB; 0 = none. */
  maxRuntimeStorageSizeMB?: number;
  /** Absolute cap, also enforced by checkRuntimeLimit. SPEC 2.6: 2 × MaxStorageSizeMB; 0 = none. */
  absoluteMaxStorageSizeMB?: number;
  /** How far below the limit a cleanup shrinks the db, percent. SPEC 2.6: 10, 0–100. */
  cleanPercentOverLimit?: number;
  /** Minutes between cleanups (runDue). SPEC 2.6: 30, 1–2880. */
  databaseCleanupIntervalMinutes?: number;
  /** Failed cleanups before the db is archived. SPEC 2.6: 3, 0–10. */
  maxCleanTries?: number;
  /** Archives kept, oldest deleted beyond. SPEC 2.6: 0, 0–100. */
  databaseArchiveLimit?: number;
}

/** What one cleanup did. */
export interface CleanupReport {
  at: number;
  /** Rows removed because they were older than MonitorDays. */
  deletedByAge: number;
  /** Rows removed, oldest first, to get under the size limit. */
  deletedForSize: number;
  deletedProcesses: number;
  sizeBeforeBytes: number;
  sizeAfterBytes: number;
  /** 0 when unlimited. */
  limitBytes: number;
  /** True when the db was still above the limit after this cleanup (a failed try). */
  failed: boolean;
  /** Consecutive failed cleanups, after this one (0 once archived or successful). */
  failedTries: number;
  /** Set when this cleanup archived the database. */
  archivedTo?: string | null;
  /** Archives deleted beyond DatabaseArchiveLimit. */
  deletedArchives: string[];
  error?: string;
  durationMs: number;
}

export interface RuntimeLimitStatus {
  exceeded: boolean;
  sizeBytes: number;
  /** 0 when there is no runtime limit. */
  limitBytes: number;
  /** Set when exceeded; also stored as meta disable_reason. */
  reason?: string;
}

const MiB = 1024 * 1024;
const DAY_MS = 86_400_000;
/** Rows deleted per transaction, so the writer is never blocked for long. */
const DELETE_CHUNK = 5000;
/** Size-driven deletion rounds per cleanup before it is counted as failed. */
const SIZE_ROUNDS = 8;

interface Resolved {
  monitorDays: number;
  maxStorageSizeMB: number;
  maxRuntimeStorageSizeMB: number;
  absoluteMaxStorageSizeMB: number;
  cleanPercentOverLimit: number;
  databaseCleanupIntervalMinutes: number;
  maxCleanTries: number;
  databaseArchiveLimit: number;
}

function checked(field: string, value: number, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw new InvalidMonitorInput(field, `must be a number from ${min} to ${max}`, value);
  }
  return value;
}

function resolve(o: RetentionOptions): Resolved {
  const maxStorage = checked('maxStorageSizeMB', o.maxStorageSizeMB ?? 1024, 0, Number.MAX_SAFE_INTEGER); // SPEC 2.6
  return {
    monitorDays: checked('monitorDays', o.monitorDays ?? 90, 0, 65536), // SPEC 2.6
    maxStorageSizeMB: maxStorage,
    maxRuntimeStorageSizeMB: checked('maxRuntimeStorageSizeMB', o.maxRuntimeStorageSizeMB ?? 2 * maxStorage, 0, Number.MAX_SAFE_INTEGER), // SPEC 2.6
    absoluteMaxStorageSizeMB: checked('absoluteMaxStorageSizeMB', o.absoluteMaxStorageSizeMB ?? 2 * maxStorage, 0, Number.MAX_SAFE_INTEGER), // SPEC 2.6
    cleanPercentOverLimit: checked('cleanPercentOverLimit', o.cleanPercentOverLimit ?? 10, 0, 100), // SPEC 2.6
    databaseCleanupIntervalMinutes: checked('databaseCleanupIntervalMinutes', o.databaseCleanupIntervalMinutes ?? 30, 1, 2880), // SPEC 2.6
    maxCleanTries: checked('maxCleanTries', o.maxCleanTries ?? 3, 0, 10), // SPEC 2.6
    databaseArchiveLimit: checked('databaseArchiveLimit', o.databaseArchiveLimit ?? 0, 0, 100), // SPEC 2.6
  };
}

const ORPHAN_PROCESSES = `
  DELETE FROM processes WHERE id IN (
    SELECT id FROM processes p
    WHERE coalesce(p.end_time, p.start_time, p.first_seen) < @cutoff
      ${TIMED_TABLES.map((t) => `AND NOT EXISTS (SELECT 1 FROM ${t} x WHERE x.process_id = p.id)`).join('\n      ')}
      AND NOT EXISTS (SELECT 1 FROM processes c WHERE c.parent_id = p.id)
    LIMIT ${DELETE_CHUNK})`;

export class Retention {
  readonly options: Resolved;

  /** @internal Use MonitorDb.retention(). */
  constructor(
    private readonly monitor: MonitorDb,
    options: RetentionOptions = {},
  ) {
    this.options = resolve(options);
  }

  /** Runs a cleanup when DatabaseCleanupIntervalMinutes have passed since the last one. */
  runDue(now = this.monitor.clock.now()): CleanupReport | null {
    const last = Number(this.monitor.getMeta('last_cleanup') ?? '-Infinity');
    // A clock that went backwards (now < last) must not postpone cleanups indefinitely.
    if (now >= last && now - last < this.options.databaseCleanupIntervalMinutes * 60_000) return null;
    return this.runCleanup(now);
  }

  /** One cleanup: age out, shrink under the size limit, archive after MaxCleanTries failures. */
  runCleanup(now = this.monitor.clock.now()): CleanupReport {
    const started = performance.now();
    const o = this.options;
    const limitBytes = o.maxStorageSizeMB * MiB;
    const report: CleanupReport = {
      at: now, deletedByAge: 0, deletedForSize: 0, deletedProcesses: 0, sizeBeforeBytes: this.monitor.sizeBytes(),
      sizeAfterBytes: 0, limitBytes, failed: false, failedTries: Number(this.monitor.getMeta('clean_failures') ?? '0'),
      deletedArchives: [], durationMs: 0,
    };
    try {
      if (o.monitorDays > 0) {
        const cutoff = now - o.monitorDays * DAY_MS;
        report.deletedByAge = this.deleteOlderThan(cutoff);
        report.deletedProcesses += this.deleteOrphanProcesses(cutoff);
      }
      if (limitBytes > 0 && this.monitor.sizeBytes() > limitBytes && o.maxCleanTries > 0) {
        const { rows, processes } = this.shrinkTo(limitBytes * (1 - o.cleanPercentOverLimit / 100));
        report.deletedForSize = rows;
        report.deletedProcesses += processes;
      }
      this.reclaim();
    } catch (err) {
      report.error = (err as Error).message;
      this.monitor.log.error({ err }, 'monitor.db cleanup failed');
    }
    report.sizeAfterBytes = this.monitor.sizeBytes();
    report.failed = report.error !== undefined || (limitBytes > 0 && report.sizeAfterBytes > limitBytes);
    if (!report.failed) {
      report.failedTries = 0;
    } else {
      report.failedTries++;
      if (report.failedTries >= o.maxCleanTries) {
        try {
          report.archivedTo = this.archive(now);
          report.deletedArchives = pruneMovedAside(this.monitor.path, 'archive', o.databaseArchiveLimit);
          if (report.deletedArchives.includes(report.archivedTo)) report.archivedTo = null;
          report.failedTries = 0;
          report.sizeAfterBytes = this.monitor.sizeBytes();
        } catch (err) {
          // Still over the limit; the next cleanup tries again, and checkRuntimeLimit stays the backstop.
          report.error = `archiving failed: ${(err as Error).message}`;
          this.monitor.log.error({ err }, 'monitor.db archive failed');
        }
      }
    }
    this.monitor.setMeta('clean_failures', String(report.failedTries));
    this.monitor.setMeta('last_cleanup', String(now));
    report.durationMs = performance.now() - started;
    this.monitor.log.info(report, 'monitor.db cleanup finished');
    return report;
  }

  /**
   * MaxRuntimeStorageSizeMB (and AbsoluteMaxStorageSizeMB): when exceeded, stores DisableTrace
   * and the reason in meta and reports it; the caller stops recording and exits (SPEC 2.4).
   */
  checkRuntimeLimit(): RuntimeLimitStatus {
    const limits = [this.options.maxRuntimeStorageSizeMB, this.options.absoluteMaxStorageSizeMB].filter((l) => l > 0);
    const sizeBytes = this.monitor.sizeBytes();
    if (limits.length === 0) return { exceeded: false, sizeBytes, limitBytes: 0 };
    const limitMB = Math.min(...limits);
    const limitBytes = limitMB * MiB;
    if (sizeBytes <= limitBytes) return { exceeded: false, sizeBytes, limitBytes };
    const reason =
      `monitor.db is ${(sizeBytes / MiB).toFixed(1)} MB, above the runtime limit of ${limitMB} MB ` +
      `(MaxRuntimeStorageSizeMB/AbsoluteMaxStorageSizeMB); recorder disabled`;
    this.monitor.setDisableTrace(reason);
    return { exceeded: true, sizeBytes, limitBytes, reason };
  }

  /** Deletes rows older than `cutoff` from every timed table, in short transactions. */
  private deleteOlderThan(cutoff: number, inclusive = false): number {
    const db = this.monitor.connection().db;
    const op = inclusive ? '<=' : '<';
    let total = 0;
    for (const table of TIMED_TABLES) {
      const stmt = db.prepare(
        `DELETE FROM ${table} WHERE id IN (SELECT id FROM ${table} WHERE time ${op} ? ORDER BY time LIMIT ${DELETE_CHUNK})`,
      );
      for (;;) {
        const n = stmt.run(cutoff).changes;
        total += n;
        if (n < DELETE_CHUNK) break;
      }
    }
    return total;
  }

  /** Process rows whose life ended before `cutoff` that nothing refers to any more. */
  private deleteOrphanProcesses(cutoff: number): number {
    const stmt = this.monitor.connection().db.prepare(ORPHAN_PROCESSES);
    let total = 0;
    for (;;) {
      const n = stmt.run({ cutoff }).changes;
      total += n;
      if (n < DELETE_CHUNK) break;
    }
    return total;
  }

  /** Deletes the oldest rows (across all families) until the pages in use fit `targetBytes`. */
  private shrinkTo(targetBytes: number): { rows: number; processes: number } {
    const db = this.monitor.connection().db;
    const pageSize = db.pragma('page_size', { simple: true }) as number;
    const union = TIMED_TABLES.map((t) => `SELECT time FROM ${t}`).join(' UNION ALL ');
    const countAll = db.prepare(`SELECT ${TIMED_TABLES.map((t) => `(SELECT count(*) FROM ${t})`).join(' + ')}`).pluck();
    const nthTime = db.prepare(`SELECT time FROM (${union}) ORDER BY time LIMIT 1 OFFSET ?`).pluck();
    let rows = 0;
    let processes = 0;
    for (let round = 0; round < SIZE_ROUNDS; round++) {
      const used = ((db.pragma('page_count', { simple: true }) as number) - (db.pragma('freelist_count', { simple: true }) as number)) * pageSize;
      if (used <= targetBytes) break;
      const total = countAll.get() as number;
      if (total === 0) break;
      // Rows are roughly alike in size: delete the share of rows that is the share of excess.
      const share = (used - targetBytes) / used;
      const k = Math.min(total - 1, Math.max(0, Math.ceil(total * share) - 1));
      const cutoff = nthTime.get(k) as number;
      rows += this.deleteOlderThan(cutoff, true);
      processes += this.deleteOrphanProcesses(cutoff + 1);
    }
    return { rows, processes };
  }

  /** Hands free pages back to the file system and truncates the WAL. */
  private reclaim(): void {
    const db = this.monitor.connection().db;
    db.pragma('incremental_vacuum');
    db.pragma('wal_checkpoint(TRUNCATE)');
  }

  private archive(now: number): string {
    let archivedTo = '';
    this.monitor.replaceFile((at) => {
      archivedTo = moveAside(this.monitor.path, 'archive', at);
    });
    this.monitor.setMeta('archived_at', String(now));
    this.monitor.setMeta('archived_to', archivedTo);
    this.monitor.log.warn({ archivedTo }, 'monitor.db archived after failed cleanups');
    return archivedTo;
  }
}
