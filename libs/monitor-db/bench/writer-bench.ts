// Benchmark: rows/s through the batched writer (validation, process resolution, one transaction
// per batch) against the ceiling of a bare prepared INSERT loop on the same schema and pragmas;
// then the cost of a size cleanup with incremental_vacuum against a full VACUUM.
// Run: npx nx run monitor-db:bench   (or: cd libs/monitor-db && npx tsx bench/writer-bench.ts [rows])
import { copyFileSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import { openMonitorDb, type FileEventRecord, type Timers } from '../src/index';

const ROWS = Number(process.argv[2] ?? 100_000);
/** Alternating rounds, best of each kept: the machine is shared, so single runs are noisy. */
const ROUNDS = 3;
const BATCH = 2000; // about one BatchWriteDelayMS of a busy endpoint
const PIDS = 200;
const T0 = Date.UTC(2026, 0, 1);

/** Rows per second of CPU time (user + system): stable on a shared machine, unlike wall time. */
function measure(work: () => void): number {
  const before = process.cpuUsage();
  work();
  const used = process.cpuUsage(before);
  return ROWS / ((used.user + used.system) / 1e6);
}

const neverFires: Timers = { setTimeout: () => 0, clearTimeout: () => {} };

function record(i: number): FileEventRecord {
  return {
    kind: 'file', time: T0 + 1000 + i, process: { pid: 10_000 + (i % PIDS) }, operation: i % 7 ? 'write' : 'create',
    path: `/home/user${i % 13}/project/src/module${i % 500}/file${i}.ts`, uid: 1000, success: true,
  };
}

function batchedWriter(dir: string): number {
  const path = join(dir, 'writer.db');
  rmSync(path, { force: true });
  rmSync(`${path}-wal`, { force: true });
  const db = openMonitorDb({ path });
  const w = db.writer({ batchWriteDelayMs: 1000, maxBatchSize: BATCH, timers: neverFires });
  for (let p = 0; p < PIDS; p++) {
    w.add({ kind: 'process-start', time: T0 + p, pid: 10_000 + p, ppid: 1, exe: `/usr/bin/tool${p}`, argv: [`tool${p}`], uid: 1000 });
  }
  w.flush();
  const rate = measure(() => {
    for (let i = 0; i < ROWS; i++) w.add(record(i));
    w.flush();
  });
  db.close();
  return rate;
}

function bareInsert(dir: string): number {
  const path = join(dir, 'bare.db');
  rmSync(path, { force: true });
  rmSync(`${path}-wal`, { force: true });
  openMonitorDb({ path }).close(); // same schema, indexes and pragmas
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  // The same 200 processes, already resolved: the ceiling writes exactly the rows the writer does.
  const addProcess = db.prepare('INSERT INTO processes (pid, start_time, first_seen) VALUES (?, ?, ?) RETURNING id').pluck();
  const processIds = Array.from({ length: PIDS }, (_, p) => addProcess.get(10_000 + p, T0 + p, T0 + p) as number);
  const insert = db.prepare(
    `INSERT INTO file_events (time, process_id, pid, uid, operation, path, success)
     VALUES (@time, @process_id, @pid, @uid, @operation, @path, 1)`,
  );
  const writeBatch = db.transaction((from: number, to: number) => {
    for (let i = from; i < to; i++) {
      const r = record(i);
      insert.run({ time: r.time, process_id: processIds[i % PIDS], pid: r.process?.pid, uid: r.uid, operation: r.operation, path: r.path });
    }
  });
  const rate = measure(() => {
    for (let i = 0; i < ROWS; i += BATCH) writeBatch(i, Math.min(ROWS, i + BATCH));
  });
  db.close();
  return rate;
}

function cleanupCost(dir: string): void {
  const path = join(dir, 'writer.db');
  const copy = join(dir, 'copy.db');
  const db = openMonitorDb({ path });
  db.connection().db.pragma('wal_checkpoint(TRUNCATE)');
  copyFileSync(path, copy);
  const size = db.sizeBytes();
  const limitMB = size / 2 / (1024 * 1024);
  const report = db.retention({ maxStorageSizeMB: limitMB, cleanPercentOverLimit: 10, monitorDays: 0 }).runCleanup(T0 + ROWS);
  db.close();
  console.log(
    `cleanup to ${limitMB.toFixed(1)} MB (-10%): ${report.deletedForSize} rows deleted, ` +
      `${(report.sizeBeforeBytes / 1e6).toFixed(1)} → ${(report.sizeAfterBytes / 1e6).toFixed(1)} MB ` +
      `in ${report.durationMs.toFixed(0)} ms (delete + incremental_vacuum + checkpoint)`,
  );

  // Baseline: the same deletion followed by a full VACUUM instead.
  const raw = new Database(copy);
  const started = performance.now();
  for (const t of ['file_events', 'process_events']) raw.prepare(`DELETE FROM ${t} WHERE time <= ?`).run(T0 + 1000 + report.deletedForSize);
  const deleted = performance.now();
  raw.exec('VACUUM');
  const vacuumed = performance.now();
  raw.close();
  console.log(
    `baseline: same delete ${(deleted - started).toFixed(0)} ms + full VACUUM ${(vacuumed - deleted).toFixed(0)} ms ` +
      `(file ${(statSync(copy).size / 1e6).toFixed(1)} MB; VACUUM needs a second copy of the db on disk)`,
  );
}

const dir = mkdtempSync(join(tmpdir(), 'monitor-db-bench-'));
try {
  console.log(`monitor-db writer bench: ${ROWS} file events, batches of ${BATCH}, ${PIDS} processes, best of ${ROUNDS} alternating rounds`);
  let ceiling = 0;
  let writer = 0;
  for (let round = 0; round < ROUNDS; round++) {
    ceiling = Math.max(ceiling, bareInsert(dir));
    writer = Math.max(writer, batchedWriter(dir));
  }
  console.log(`bare prepared INSERT, one transaction per batch (ceiling): ${Math.round(ceiling).toLocaleString('en')} rows per CPU-second`);
  console.log(`batched writer (validate, resolve process, insert):       ${Math.round(writer).toLocaleString('en')} rows per CPU-second`);
  console.log(`ratio writer/ceiling: ${(writer / ceiling).toFixed(2)}`);
  cleanupCost(dir);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
