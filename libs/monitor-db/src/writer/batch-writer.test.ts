import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidMonitorInput } from '../errors';
import { openMonitorDb, type MonitorDb } from '../monitor-db';
import type { MonitorRecord } from '../records';
import { fileRecord, ManualClock, ManualTimers, startRecord, tempDir } from '../test-support';
import type { FlushResult } from './batch-writer';

describe('BatchWriter', () => {
  let tmp: ReturnType<typeof tempDir>;
  let db: MonitorDb;
  const clock = new ManualClock();
  const t0 = clock.now();
  const count = (table: string) => (db.connection().db.prepare(`SELECT count(*) FROM ${table}`).pluck().get() as number);

  beforeEach(() => {
    tmp = tempDir();
    db = openMonitorDb({ path: tmp.dbPath, clock });
  });
  afterEach(() => {
    db.close();
    tmp.cleanup();
  });

  it('holds records until BatchWriteDelayMS passes, then saves them in one batch', () => {
    const timers = new ManualTimers();
    const flushes: FlushResult[] = [];
    const w = db.writer({ batchWriteDelayMs: 1000, timers, onFlush: (r) => flushes.push(r) });
    for (let i = 0; i < 10; i++) w.add(fileRecord(42, t0 + i, `/tmp/f${i}`));
    expect(w.pending).toBe(10);
    timers.advance(999);
    expect(count('file_events')).toBe(0);
    timers.advance(1);
    expect(count('file_events')).toBe(10);
    expect(flushes).toEqual([expect.objectContaining({ batchId: 1, records: 10 })]);
    expect(db.getMeta('events_written')).toBe('10');

    w.add(fileRecord(42, t0 + 20, '/tmp/later'));
    expect(timers.scheduled).toBe(1);
    timers.advance(1000);
    expect(flushes.map((f) => f.batchId)).toEqual([1, 2]);
    expect(w.stats()).toEqual({ pending: 0, written: 11, dropped: 0, batches: 2, failedBatches: 0 });
  });

  it('saves on its own with the real timers', async () => {
    const w = db.writer({ batchWriteDelayMs: 20 });
    w.add(fileRecord(42, t0, '/tmp/timed'));
    const deadline = Date.now() + 5000;
    while (count('file_events') === 0 && Date.now() < deadline) await new Promise((r) => setImmediate(r));
    expect(count('file_events')).toBe(1);
    expect(w.pending).toBe(0);
  });

  it('writes every record at once when BatchWriteDelayMS is 0', () => {
    const timers = new ManualTimers();
    const w = db.writer({ batchWriteDelayMs: 0, timers });
    w.add(fileRecord(42, t0, '/tmp/now'));
    expect(count('file_events')).toBe(1);
    expect(timers.scheduled).toBe(0);
  });

  it('saves early once maxBatchSize records are queued', () => {
    const timers = new ManualTimers();
    const w = db.writer({ batchWriteDelayMs: 5000, maxBatchSize: 3, timers });
    for (let i = 0; i < 7; i++) w.add(fileRecord(42, t0 + i, `/tmp/f${i}`));
    expect(count('file_events')).toBe(6);
    expect(w.pending).toBe(1);
  });

  it('refuses BatchWriteDelayMS outside 0–5000', () => {
    expect(() => db.writer({ batchWriteDelayMs: 5001 })).toThrow('batchWriteDelayMs 5001: must be an integer from 0 to 5000');
  });

  it.each<[string, unknown, string]>([
    ['an unknown kind', { kind: 'tea', time: 1 }, 'kind "tea": must be one of'],
    ['a fractional time', { kind: 'file', time: 1.5, operation: 'write', path: '/x' }, 'time 1.5: must be epoch milliseconds'],
    ['an unknown file operation', { kind: 'file', time: 1, operation: 'explode', path: '/x' }, 'operation "explode": must be one of create'],
    ['an empty path', { kind: 'file', time: 1, operation: 'write', path: '' }, 'path "": must be a non-empty string'],
    ['a process without pid', { kind: 'file', time: 1, operation: 'write', path: '/x', process: {} }, 'process.pid (missing): must be an integer'],
    ['a port out of range', { kind: 'network', time: 1, direction: 'connect', protocol: 'tcp', remotePort: 70000 }, 'remotePort 70000: must be a port'],
    ['a bad hash', { kind: 'process-start', time: 1, pid: 5, exeSha256: 'xyz' }, 'exeSha256 "xyz": must be 64 lowercase hex digits'],
    ['a security result', { kind: 'security', time: 1, type: 'login', result: 'maybe' }, 'result "maybe": must be one of success, failure'],
  ])('refuses %s, naming the field and the rule', (_name, record, message) => {
    const w = db.writer({ batchWriteDelayMs: 0 });
    expect(() => w.add(record as MonitorRecord)).toThrow(InvalidMonitorInput);
    expect(() => w.add(record as MonitorRecord)).toThrow(message);
    expect(w.pending).toBe(0);
  });

  it('links events to the process row by pid and start time, and a reused pid to a new row', () => {
    const w = db.writer({ batchWriteDelayMs: 1000 });
    w.add(startRecord(500, t0, { exe: '/usr/bin/first' }));
    w.add(fileRecord(500, t0 + 10, '/a'));
    w.add({ kind: 'process-exit', time: t0 + 20, pid: 500, exitCode: 3 });
    w.add(fileRecord(500, t0 + 30, '/b')); // pid reused by a process we never saw start
    w.add(startRecord(500, t0 + 40, { exe: '/usr/bin/second' }));
    w.add(fileRecord(500, t0 + 50, '/c'));
    w.add({ kind: 'file', time: t0 + 60, process: { pid: 500, startTime: t0 }, operation: 'write', path: '/late' });
    w.flush();
    const rows = db.connection().db.prepare(
      'SELECT f.path, p.exe, p.inferred, p.exit_code FROM file_events f JOIN processes p ON p.id = f.process_id ORDER BY f.time',
    ).all();
    expect(rows).toEqual([
      { path: '/a', exe: '/usr/bin/first', inferred: 0, exit_code: 3 },
      { path: '/b', exe: null, inferred: 1, exit_code: null },
      { path: '/c', exe: '/usr/bin/second', inferred: 0, exit_code: null },
      { path: '/late', exe: '/usr/bin/first', inferred: 0, exit_code: 3 },
    ]);
  });

  it('links late-arriving events of a reused pid to the process that ran at their time', () => {
    const w = db.writer({ batchWriteDelayMs: 1000 });
    w.add(startRecord(600, t0, { exe: '/old' }));
    w.add(startRecord(600, t0 + 100, { exe: '/new' }));
    w.flush();
    // A later batch carries events from both lifetimes, interleaved.
    for (const [time, path] of [[t0 + 10, '/o1'], [t0 + 150, '/n1'], [t0 + 20, '/o2'], [t0 + 160, '/n2'], [t0 + 30, '/o3']] as const) {
      w.add(fileRecord(600, time, path));
    }
    w.flush();
    const rows = db.connection().db.prepare(
      'SELECT f.path, p.exe FROM file_events f JOIN processes p ON p.id = f.process_id ORDER BY f.id',
    ).all();
    expect(rows).toEqual([
      { path: '/o1', exe: '/old' }, { path: '/n1', exe: '/new' }, { path: '/o2', exe: '/old' },
      { path: '/n2', exe: '/new' }, { path: '/o3', exe: '/old' },
    ]);
  });

  it('adopts the inferred row when a start record arrives after its events', () => {
    const w = db.writer({ batchWriteDelayMs: 1000 });
    w.add(fileRecord(77, t0 + 5, '/early', { process: { pid: 77, exe: '/bin/guess' } }));
    w.add(startRecord(77, t0, { exe: '/bin/real' }));
    w.add(fileRecord(77, t0 + 6, '/after'));
    w.flush();
    const processes = db.connection().db.prepare('SELECT pid, start_time, exe, inferred FROM processes').all();
    expect(processes).toEqual([{ pid: 77, start_time: t0, exe: '/bin/real', inferred: 0 }]);
    expect(count('file_events')).toBe(2);
  });

  it('upserts a repeated start record instead of duplicating the process', () => {
    const w = db.writer({ batchWriteDelayMs: 1000 });
    w.add(startRecord(9, t0, { exeSha256: undefined }));
    w.add(startRecord(9, t0, { exeSha256: 'b'.repeat(64) }));
    w.flush();
    expect(db.connection().db.prepare('SELECT exe_sha256 FROM processes').pluck().all()).toEqual(['b'.repeat(64)]);
  });

  it('keeps only the latest RecordSignalMatches matches per signal', () => {
    const w = db.writer({ batchWriteDelayMs: 1000, recordSignalMatches: 2 });
    for (let i = 0; i < 5; i++) w.add(fileRecord(1, t0 + i, `/etc/shadow${i}`, { signals: ['shadow-touch'] }));
    w.add(fileRecord(1, t0 + 9, '/tmp/x', { signals: ['tmp-write'] }));
    w.flush();
    const matches = db.connection().db.prepare(
      'SELECT m.signal_name, f.path FROM signal_matches m JOIN file_events f ON f.id = m.event_id ORDER BY m.time',
    ).all();
    expect(matches).toEqual([
      { signal_name: 'shadow-touch', path: '/etc/shadow3' },
      { signal_name: 'shadow-touch', path: '/etc/shadow4' },
      { signal_name: 'tmp-write', path: '/tmp/x' },
    ]);
  });

  it('saves what is queued when the database closes', () => {
    const w = db.writer({ batchWriteDelayMs: 5000, timers: new ManualTimers() });
    w.add(fileRecord(1, t0, '/kept'));
    db.close();
    const again = openMonitorDb({ path: tmp.dbPath, clock });
    expect(again.countsByFamily().file).toBe(1);
    again.close();
    db = openMonitorDb({ path: tmp.dbPath, clock });
    expect(() => w.add(fileRecord(1, t0, '/refused'))).toThrow('closed');
  });

  it('reports and drops a batch the database refuses, and keeps working', () => {
    const errors: number[] = [];
    const w = db.writer({ batchWriteDelayMs: 1000, onError: (_e, n) => errors.push(n) });
    w.add(fileRecord(1, t0, '/a'));
    db.connection().db.exec('DROP TABLE signal_matches'); // any statement of the batch failing
    w.add(fileRecord(1, t0, '/b', { signals: ['x'] }));
    expect(w.flush()).toBeNull();
    expect(errors).toEqual([2]);
    expect(count('file_events')).toBe(0); // all or nothing
    w.add(fileRecord(1, t0, '/c'));
    expect(w.flush()).toMatchObject({ records: 1 });
    expect(w.stats()).toMatchObject({ written: 1, dropped: 2, failedBatches: 1 });
  });
});
