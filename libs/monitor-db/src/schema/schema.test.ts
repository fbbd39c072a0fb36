import { execFileSync } from 'node:child_process';
import { statSync, writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MonitorDbCorrupt, MonitorDbTooNew } from '../errors';
import { checkMonitorDbFile } from '../integrity';
import { openMonitorDb, recreateMonitorDb, type MonitorDb } from '../monitor-db';
import { fileRecord, ManualClock, startRecord, tempDir } from '../test-support';
import { SCHEMA_VERSION, VIEWS } from './migrations';

const SQLITE3 = '/usr/bin/sqlite3';

/** Runs the operator's sqlite3 shell on the file and returns its JSON rows. */
function shell(dbPath: string, sql: string): Record<string, unknown>[] {
  const out = execFileSync(SQLITE3, ['-json', dbPath, sql], { encoding: 'utf8' });
  return out.trim() === '' ? [] : (JSON.parse(out) as Record<string, unknown>[]);
}

function writeOneOfEach(db: MonitorDb, t0: number): void {
  const w = db.writer({ batchWriteDelayMs: 1000 });
  w.add(startRecord(100, t0, { ppid: 1, exe: '/usr/sbin/sshd', argv: ['sshd', '-D'] }));
  w.add(startRecord(200, t0 + 10, { ppid: 100, exe: '/bin/bash', argv: ['-bash'] }));
  w.add(startRecord(300, t0 + 20, { ppid: 200, exe: '/usr/bin/curl', argv: ['curl', 'https://example.org'] }));
  w.add(fileRecord(200, t0 + 30, '/home/alice/notes.txt', { operation: 'create' }));
  w.add(fileRecord(200, t0 + 40, '/home/alice/notes2.txt', { operation: 'rename', oldPath: '/home/alice/notes.txt' }));
  w.add({
    kind: 'network', time: t0 + 50, process: { pid: 300 }, direction: 'connect', protocol: 'tcp',
    addressFamily: 'inet', remoteAddress: '93.184.216.34', remotePort: 443, success: true,
  });
  w.add({
    kind: 'network', time: t0 + 55, process: { pid: 300 }, direction: 'connect', protocol: 'tcp',
    addressFamily: 'inet', remoteAddress: '93.184.216.34', remotePort: 443, success: true,
  });
  w.add({
    kind: 'security', time: t0 + 60, process: { pid: 100 }, type: 'login', account: 'alice', result: 'success',
    terminal: 'ssh', remoteAddress: '10.0.0.5',
  });
  w.add({ kind: 'dns', time: t0 + 70, process: { pid: 300 }, query: 'example.org', queryType: 'A', response: '93.184.216.34' });
  w.add({ kind: 'registry', time: t0 + 80, process: { pid: 300 }, operation: 'set_value', key: 'HKLM\\Software\\X', valueName: 'v' });
  w.add({ kind: 'image', time: t0 + 90, process: { pid: 300 }, imageType: 'library', path: '/usr/lib/libssl.so.3' });
  w.add({ kind: 'sample', time: t0 + 95, process: { pid: 300 }, cpuPercent: 12.5, rssBytes: 10_000_000 });
  w.add({ kind: 'process-exit', time: t0 + 100, pid: 300, exitCode: 0 });
  w.close();
}

describe('monitor.db schema', () => {
  let tmp: ReturnType<typeof tempDir>;
  const clock = new ManualClock();
  beforeEach(() => {
    tmp = tempDir();
  });
  afterEach(() => tmp.cleanup());

  it('creates a WAL database with incremental auto-vacuum at the current schema version', () => {
    const db = openMonitorDb({ path: tmp.dbPath, clock });
    const raw = db.connection().db;
    expect(raw.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(raw.pragma('auto_vacuum', { simple: true })).toBe(2);
    expect(raw.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(db.getMeta('created_at')).toBe(String(clock.now()));
    db.close();
    expect(statSync(tmp.dbPath).mode & 0o777).toBe(0o600);
  });

  it('reopens an existing database without migrating it again or losing rows', () => {
    const db = openMonitorDb({ path: tmp.dbPath, clock });
    writeOneOfEach(db, clock.now());
    db.close();
    const again = openMonitorDb({ path: tmp.dbPath, clock });
    expect(again.countsByFamily().file).toBe(2);
    expect(again.integrityCheck()).toMatchObject({ ok: true, problems: [] });
    again.close();
  });

  it('refuses a database written by a newer schema', () => {
    openMonitorDb({ path: tmp.dbPath, clock }).close();
    const raw = new Database(tmp.dbPath);
    raw.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    raw.close();
    expect(() => openMonitorDb({ path: tmp.dbPath, clock })).toThrow(MonitorDbTooNew);
  });

  it('lets the sqlite3 shell open the database and query every view', () => {
    const db = openMonitorDb({ path: tmp.dbPath, clock });
    const t0 = clock.now();
    writeOneOfEach(db, t0);
    // The recorder keeps the database open while an operator looks at it.
    for (const view of VIEWS) expect(shell(tmp.dbPath, `SELECT count(*) AS n FROM ${view}`)[0].n).toBeGreaterThan(0);

    const tree = shell(tmp.dbPath, 'SELECT pid, depth, ancestry FROM v_process_tree WHERE pid = 300');
    expect(tree).toEqual([{ pid: 300, depth: 2, ancestry: '100 > 200 > 300' }]);

    const timeline = shell(tmp.dbPath, 'SELECT family, operation, subject FROM v_timeline');
    expect(timeline.map((r) => r.family)).toEqual([
      'process', 'process', 'process', 'file', 'file', 'network', 'network', 'security', 'dns', 'registry', 'image', 'process',
    ]);
    expect(timeline[5]).toEqual({ family: 'network', operation: 'connect', subject: '93.184.216.34:443' });
    expect(shell(tmp.dbPath, "SELECT subject, detail FROM v_timeline WHERE family = 'process' LIMIT 1")).toEqual([
      { subject: '/usr/sbin/sshd', detail: '["sshd","-D"]' },
    ]);

    const activity = shell(tmp.dbPath, "SELECT family, operation FROM v_process_activity WHERE exe = '/usr/bin/curl'");
    expect(activity.map((r) => `${r.family}:${r.operation}`)).toEqual([
      'process:exec', 'network:connect', 'network:connect', 'dns:query', 'registry:set_value', 'image:library', 'process:exit',
    ]);

    const peers = shell(tmp.dbPath, 'SELECT remote_address, remote_port, connections, exes FROM v_network_peers');
    expect(peers).toEqual([{ remote_address: '93.184.216.34', remote_port: 443, connections: 2, exes: '/usr/bin/curl' }]);

    const history = shell(tmp.dbPath, "SELECT operation, other_path, exe FROM v_file_history WHERE path = '/home/alice/notes.txt'");
    expect(history).toEqual([
      { operation: 'create', other_path: null, exe: '/bin/bash' },
      { operation: 'renamed_away', other_path: '/home/alice/notes2.txt', exe: '/bin/bash' },
    ]);
    db.close();
  });

  it('reports a file that is not a database as corrupt, and recreates it', () => {
    writeFileSync(tmp.dbPath, 'this is not an SQLite database, just text '.repeat(200));
    expect(() => openMonitorDb({ path: tmp.dbPath, clock })).toThrow(MonitorDbCorrupt);
    expect(checkMonitorDbFile(tmp.dbPath)).toMatchObject({ ok: false, corrupt: true });

    const { db, movedTo } = recreateMonitorDb({ path: tmp.dbPath, clock, reason: 'status check found corruption' });
    expect(movedTo).toMatch(/monitor\.db\.corrupt-2026-01-01T00-00-00-000Z$/);
    expect(db.integrityCheck().ok).toBe(true);
    expect(db.getMeta('recreate_reason')).toContain('status check found corruption');
    db.close();
    expect(checkMonitorDbFile(tmp.dbPath)).toMatchObject({ ok: true, corrupt: false });
  });
});
