import { closeSync, existsSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkMonitorDbFile } from '../integrity';
import { openMonitorDb, type MonitorDb } from '../monitor-db';
import { fileRecord, ManualClock, startRecord, tempDir } from '../test-support';
import { listMovedAside } from './db-files';

const DAY = 86_400_000;
const MiB = 1024 * 1024;

describe('retention', () => {
  let tmp: ReturnType<typeof tempDir>;
  let db: MonitorDb;
  let clock: ManualClock;

  beforeEach(() => {
    tmp = tempDir();
    clock = new ManualClock();
    db = openMonitorDb({ path: tmp.dbPath, clock });
  });
  afterEach(() => {
    db.close();
    tmp.cleanup();
  });

  /** `n` file events, one every `stepMs` from `start`, each with a padded path of ~`bytes`. */
  function fill(n: number, start: number, stepMs: number, bytes = 200): void {
    const w = db.writer({ batchWriteDelayMs: 5000, maxBatchSize: 2000 });
    for (let i = 0; i < n; i++) {
      w.add(fileRecord(1000 + (i % 50), start + i * stepMs, `/var/data/${String(i).padStart(8, '0')}/${'x'.repeat(bytes)}`, { details: { seq: i } }));
    }
    w.close();
  }
  const seqs = () => db.connection().db.prepare("SELECT json_extract(details, '$.seq') FROM file_events ORDER BY time").pluck().all() as number[];

  it('deletes rows older than MonitorDays, driven by the clock, and the processes left without rows', () => {
    const t0 = clock.now();
    const w = db.writer({ batchWriteDelayMs: 1000 });
    for (let day = 0; day < 10; day++) {
      w.add(startRecord(100 + day, t0 + day * DAY));
      w.add({ kind: 'process-exit', time: t0 + day * DAY + 1000, pid: 100 + day });
      w.add(fileRecord(100 + day, t0 + day * DAY + 500, `/day/${day}`));
      w.add({ kind: 'sample', time: t0 + day * DAY + 600, process: { pid: 100 + day }, cpuPercent: 1, rssBytes: 1 });
    }
    w.close();
    clock.t = t0 + 9 * DAY + 2000;
    const report = db.retention({ monitorDays: 5, maxStorageSizeMB: 0 }).runCleanup();
    // Days 0–4 are more than 5 days old; day 4 is exactly 5 days and 2 s old.
    expect(report).toMatchObject({ deletedByAge: 5 * 4, deletedProcesses: 5, failed: false, failedTries: 0 });
    const paths = db.connection().db.prepare('SELECT path FROM file_events ORDER BY time').pluck().all();
    expect(paths).toEqual(['/day/5', '/day/6', '/day/7', '/day/8', '/day/9']);
    expect(db.connection().db.prepare('SELECT pid FROM processes ORDER BY pid').pluck().all()).toEqual([105, 106, 107, 108, 109]);
    expect(db.integrityCheck().ok).toBe(true);
  });

  it('keeps data of any age when MonitorDays is 0', () => {
    fill(10, clock.now() - 1000 * DAY, DAY);
    expect(db.retention({ monitorDays: 0 }).runCleanup().deletedByAge).toBe(0);
    expect(seqs()).toHaveLength(10);
  });

  it('runs a cleanup only once DatabaseCleanupIntervalMinutes have passed', () => {
    const retention = db.retention({ databaseCleanupIntervalMinutes: 30 });
    expect(retention.runDue()).not.toBeNull();
    clock.advance(29 * 60_000);
    expect(retention.runDue()).toBeNull();
    clock.advance(60_000);
    expect(retention.runDue()).not.toBeNull();
    expect(db.getMeta('last_cleanup')).toBe(String(clock.now()));
    clock.advance(-DAY); // the system clock was set back
    expect(retention.runDue()).not.toBeNull();
  });

  it('shrinks an oversized database to CleanPercentOverLimit below the limit, oldest rows first', () => {
    fill(12_000, clock.now() - 12_000, 1);
    const before = statSync(tmp.dbPath).size;
    expect(db.sizeBytes()).toBeGreaterThan(2 * MiB);
    const report = db.retention({ maxStorageSizeMB: 1, cleanPercentOverLimit: 20, monitorDays: 0 }).runCleanup();
    expect(report.failed).toBe(false);
    expect(report.sizeAfterBytes).toBeLessThanOrEqual(1 * MiB);
    // Shrunk to about 20% under the limit: not much more was deleted than needed.
    expect(report.sizeAfterBytes).toBeGreaterThan(0.6 * MiB);
    expect(statSync(tmp.dbPath).size).toBeLessThan(before / 2);
    const kept = seqs();
    expect(kept.length).toBeGreaterThan(1000);
    expect(kept).toEqual(Array.from({ length: kept.length }, (_, i) => 12_000 - kept.length + i));
    expect(report.deletedForSize).toBe(12_000 - kept.length);
    expect(db.integrityCheck().ok).toBe(true);
  });

  it('archives the database after MaxCleanTries failed cleanups and keeps DatabaseArchiveLimit archives', () => {
    const retention = db.retention({ maxStorageSizeMB: 0.5, maxCleanTries: 2, databaseArchiveLimit: 1, monitorDays: 0 });
    // Signal definitions are not events: no cleanup can remove them, so every try fails.
    const bloat = () => db.recordSignalDefinitions([{ name: 'huge', definition: { pattern: 'y'.repeat(MiB) } }]);
    bloat();
    const first = retention.runCleanup();
    expect(first).toMatchObject({ failed: true, failedTries: 1 });
    expect(first.archivedTo).toBeUndefined();
    expect(listMovedAside(tmp.dbPath, 'archive')).toEqual([]);

    clock.advance(30 * 60_000);
    const second = retention.runCleanup();
    expect(second).toMatchObject({ failed: true, failedTries: 0, deletedArchives: [] });
    expect(second.archivedTo).toBe(`${tmp.dbPath}.archive-2026-01-01T00-30-00-000Z`);
    expect(checkMonitorDbFile(second.archivedTo as string).ok).toBe(true);
    // The fresh database is usable at once and knows why.
    expect(db.sizeBytes()).toBeLessThan(0.5 * MiB);
    expect(db.getMeta('archived_to')).toBe(second.archivedTo);
    fill(5, clock.now(), 1);
    expect(db.countsByFamily().file).toBe(5);

    bloat();
    clock.advance(30 * 60_000);
    retention.runCleanup();
    clock.advance(30 * 60_000);
    const fourth = retention.runCleanup();
    expect(fourth.deletedArchives).toEqual([second.archivedTo]);
    expect(listMovedAside(tmp.dbPath, 'archive')).toEqual([fourth.archivedTo]);
  });

  it('archives straight away when MaxCleanTries is 0, deleting the archive when DatabaseArchiveLimit is 0', () => {
    fill(3000, clock.now(), 1);
    const report = db.retention({ maxStorageSizeMB: 0.25, maxCleanTries: 0, databaseArchiveLimit: 0 }).runCleanup();
    expect(report).toMatchObject({ failed: true, archivedTo: null, deletedForSize: 0 });
    expect(report.deletedArchives).toHaveLength(1);
    expect(existsSync(report.deletedArchives[0])).toBe(false);
    expect(db.countsByFamily().file).toBe(0);
  });

  it('sets DisableTrace with the reason once MaxRuntimeStorageSizeMB is exceeded', () => {
    const retention = db.retention({ maxStorageSizeMB: 0.25 }); // runtime limit defaults to twice that
    expect(retention.checkRuntimeLimit()).toMatchObject({ exceeded: false, limitBytes: 0.5 * MiB });
    expect(db.disableTraceStatus().disabled).toBe(false);
    fill(4000, clock.now(), 1);
    const status = retention.checkRuntimeLimit();
    expect(status.exceeded).toBe(true);
    expect(status.reason).toMatch(/above the runtime limit of 0.5 MB/);
    expect(db.disableTraceStatus()).toEqual({ disabled: true, reason: status.reason, since: clock.now() });
    db.clearDisableTrace();
    expect(db.disableTraceStatus()).toEqual({ disabled: false, reason: null, since: null });
  });

  it('refuses retention options outside their SPEC ranges', () => {
    expect(() => db.retention({ cleanPercentOverLimit: 101 })).toThrow('cleanPercentOverLimit 101: must be a number from 0 to 100');
    expect(() => db.retention({ databaseCleanupIntervalMinutes: 0 })).toThrow('databaseCleanupIntervalMinutes 0');
    expect(() => db.retention({ maxCleanTries: 11 })).toThrow('maxCleanTries 11');
  });
});

describe('integrity check and Recreate Database', () => {
  it('finds damaged pages and recreates the database in place', () => {
    const tmp = tempDir();
    const clock = new ManualClock();
    try {
      let db = openMonitorDb({ path: tmp.dbPath, clock });
      const w = db.writer({ batchWriteDelayMs: 5000 });
      for (let i = 0; i < 3000; i++) w.add(fileRecord(1, clock.now() + i, `/p/${i}/${'z'.repeat(100)}`));
      w.close();
      expect(db.integrityCheck({ full: true })).toMatchObject({ ok: true, corrupt: false });
      db.close();

      // Scribble over pages in the middle of the file, as a failing disk would.
      const size = statSync(tmp.dbPath).size;
      const fd = openSync(tmp.dbPath, 'r+');
      writeSync(fd, Buffer.alloc(64 * 1024, 0xa5), 0, 64 * 1024, Math.floor(size / 2 / 4096) * 4096);
      closeSync(fd);

      expect(checkMonitorDbFile(tmp.dbPath)).toMatchObject({ ok: false, corrupt: true });
      db = openMonitorDb({ path: tmp.dbPath, clock });
      const check = db.integrityCheck();
      expect(check.ok).toBe(false);
      expect(check.problems.length).toBeGreaterThan(0);

      const writer = db.writer({ batchWriteDelayMs: 5000 });
      const { movedTo } = db.recreate('status check found corruption');
      expect(movedTo).toMatch(/\.corrupt-/);
      expect(db.integrityCheck({ full: true }).ok).toBe(true);
      writer.add(fileRecord(1, clock.now(), '/after-recreate'));
      writer.flush();
      expect(db.countsByFamily().file).toBe(1);
      db.close();
    } finally {
      tmp.cleanup();
    }
  });
});

describe('archive failure', () => {
  it('keeps the database open and reports the error when the archive cannot be written', () => {
    const tmp = tempDir();
    const clock = new ManualClock();
    const db = openMonitorDb({ path: tmp.dbPath, clock });
    try {
      db.recordSignalDefinitions([{ name: 'huge', definition: 'y'.repeat(MiB) }]);
      const retention = db.retention({ maxStorageSizeMB: 0.5, maxCleanTries: 1, databaseArchiveLimit: 5 });
      // The file vanished from under the open connection (root can rename anything, so this
      // is how the test makes the archive's rename fail).
      rmSync(tmp.dbPath);
      const report = retention.runCleanup();
      expect(report.archivedTo).toBeUndefined();
      expect(report.error).toMatch(/^archiving failed/);
      expect(report.failedTries).toBe(1);
      expect(db.isOpen).toBe(true);
      expect(db.getMeta('clean_failures')).toBe('1');
      expect(db.countsByFamily().file).toBe(0);
      expect(listMovedAside(tmp.dbPath, 'archive')).toEqual([]);
    } finally {
      db.close();
      tmp.cleanup();
    }
  });
});
