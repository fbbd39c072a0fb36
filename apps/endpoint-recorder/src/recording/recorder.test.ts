// The recorder on real corpora and a real monitor.db: rows per family, filters, PendingEventCap,
// retention and the kill switch driven by an injected clock and CPU sampler.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { makeTempDir, sharedRoot } from '@dc/service-kit/testing';
import Database from 'better-sqlite3';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { openMonitorDb, type MonitorDb } from '@dc/monitor-db';
import { applyPlan, planInstall } from '../audit-plumbing/install-audit';
import { RULES_BEGIN } from '../audit-plumbing/recorder-rules';
import { loadConfig } from '../config/load-config';
import { formatStatus, gatherStatus } from '../status/status';
import { loadFilters } from '../pipeline/load-filters';
import { ProcSampler } from '../sampling/proc-sampler';
import { replayFile } from '../sources/replay-file';
import { auditRuleRemover } from '../cli/commands';
import { Recorder, type RecorderDeps } from './recorder';

const corpus = (rel: string) => join(sharedRoot, 'corpora', rel);
const silent = pino({ level: 'silent' });
// A real collection before each heap reading, so garbage not yet collected is not counted as
// memory the recorder holds (heapUsed alone varies with GC timing).
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;
const retainedHeap = () => {
  collectGarbage();
  return process.memoryUsage().heapUsed;
};
const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c();
});

interface Rig {
  dir: string;
  db: MonitorDb;
  recorder: Recorder;
  clock: { now: number };
  cpu: { micros: number };
  rows(sql: string): Array<Record<string, unknown>>;
}

function rig(files: Record<string, unknown> = {}, deps: Partial<RecorderDeps> = {}): Rig {
  const tmp = makeTempDir('rec-recorder-');
  cleanups.push(tmp.remove);
  for (const [name, body] of Object.entries(files)) writeFileSync(join(tmp.dir, name), JSON.stringify(body));
  const config = loadConfig(tmp.dir);
  const clock = { now: Date.parse('2026-01-01T00:00:00Z') };
  const cpu = { micros: 0 };
  const db = openMonitorDb({ path: config.paths.db, clock: { now: () => clock.now } });
  cleanups.push(() => db.close());
  const loaded = loadFilters(config);
  const recorder = new Recorder({
    config,
    db,
    log: silent,
    clock: () => clock.now,
    cpu: () => cpu.micros,
    processors: 2,
    sampler: null,
    filters: loaded.filters,
    ...(loaded.signals ? { signals: loaded.signals } : {}),
    hashExecutables: false,
    killSwitch: true,
    retention: true,
    ...deps,
  });
  const rows = (sql: string) => {
    recorder.writer.flush();
    const raw = new Database(config.paths.db, { readonly: true });
    try {
      return raw.prepare(sql).all() as Array<Record<string, unknown>>;
    } finally {
      raw.close();
    }
  };
  return { dir: tmp.dir, db, recorder, clock, cpu, rows };
}

const count = (r: Rig, table: string) => Number(r.rows(`SELECT count(*) AS n FROM ${table}`)[0].n);

describe('Recorder on the real corpora', () => {
  it.each([
    ['hub/auditd-postexploit-rm.log', { process_events: 10, file_events: 0, network_events: 0, security_events: 0 }],
    ['laurel/shell-proc-trace.txt', { process_events: 4, file_events: 0, network_events: 0, security_events: 0 }],
    ['laurel/shell-proc-trace-confusion.txt', { process_events: 5, file_events: 0, network_events: 0, security_events: 0 }],
    ['beats/auditbeat_sudo.log', { process_events: 0, file_events: 0, network_events: 0, security_events: 20 }],
    ['laurel/record-connect.txt', { process_events: 0, file_events: 0, network_events: 2, security_events: 0 }],
    // 22 path-based file events, plus write, pwrite64 and ftruncate on a descriptor opened earlier (MaxFileHandlesPerProcess).
    ['osquery/process_file_events_tests.extracted.log', { process_events: 0, file_events: 25, network_events: 0, security_events: 0 }],
    ['LLM-log-parsing/russelmitchell_intranet_server_audit.log', { process_events: 0, file_events: 0, network_events: 0, security_events: 1833 }],
  ])('replaying %s writes the expected rows per family', async (file, expected) => {
    const r = rig();
    const end = await r.recorder.run(replayFile(corpus(file)));
    expect(end).toEqual({ kind: 'end-of-input' });
    const got = Object.fromEntries(Object.keys(expected).map((t) => [t, count(r, t)]));
    expect(got).toEqual(expected);
    const stats = r.recorder.pipeline.stats();
    expect(stats.dropped).toBe(0);
    expect(stats.recorded).toBe(Object.values(expected).reduce((a, b) => a + b, 0));
  });

  it('stores each rm of the post-exploitation log as a process of its parent shell', async () => {
    const r = rig();
    await r.recorder.run(replayFile(corpus('hub/auditd-postexploit-rm.log')));
    const rows = r.rows('SELECT p.exe, p.comm, p.uid, p.pid, p.ppid FROM process_events e JOIN processes p ON p.id = e.process_id ORDER BY e.time');
    const firstPid = Number(/ pid=(\d+)/.exec(readFileSync(corpus('hub/auditd-postexploit-rm.log'), 'utf8'))![1]);
    expect(rows).toHaveLength(10);
    expect(rows.every((x) => x.exe === '/bin/rm' && x.comm === 'rm' && x.uid === 1000 && x.ppid === 26843)).toBe(true);
    expect(rows[0].pid).toBe(firstPid);
  });

  it('joins EXECVE arguments into the command line of each process', async () => {
    const r = rig();
    await r.recorder.run(replayFile(corpus('laurel/shell-proc-trace.txt')));
    const argvs = r.rows('SELECT argv FROM processes ORDER BY start_time').map((x) => JSON.parse(String(x.argv)) as string[]);
    expect(argvs).toHaveLength(4);
    expect(argvs.every((a) => a.length > 0)).toBe(true);
  });

  it('records sudo authentication, accounts and results as security events', async () => {
    const r = rig();
    await r.recorder.run(replayFile(corpus('beats/auditbeat_sudo.log')));
    const text = readFileSync(corpus('beats/auditbeat_sudo.log'), 'utf8');
    const rootRecords = text.split('\n').filter((l) => l.includes('acct="root"')).length;
    const failed = text.split('\n').filter((l) => / res=failed/.test(l)).length;
    expect(r.rows("SELECT count(*) AS n FROM security_events WHERE account = 'root'")[0].n).toBe(rootRecords);
    expect(r.rows("SELECT count(*) AS n FROM security_events WHERE result = 'failure'")[0].n).toBe(failed);
  });
});

describe('filters', () => {
  it('drop exactly the events a rule matches, and nothing else', async () => {
    const file = corpus('beats/auditbeat_sudo.log');
    const all = rig();
    await all.recorder.run(replayFile(file));
    const unfiltered = all.rows('SELECT time, type, account, result FROM security_events ORDER BY id');

    const r = rig({ 'filters.json': { version: 1, rules: [{ id: 'drop-root', family: 'security', action: 'exclude', when: { field: 'account', equals: 'root' } }] } });
    await r.recorder.run(replayFile(file));
    const kept = r.rows('SELECT time, type, account, result FROM security_events ORDER BY id');
    expect(kept).toEqual(unfiltered.filter((x) => x.account !== 'root'));
    expect(r.recorder.pipeline.stats().families.security.filtered).toBe(unfiltered.length - kept.length);
    expect(unfiltered.length - kept.length).toBe(11); // acct="root" appears on 11 records of the file
  });

  it('keep file events the watchlist watches even when a module filter excludes them (SPEC 2.3)', async () => {
    const file = corpus('osquery/process_file_events_tests.extracted.log');
    const all = rig();
    await all.recorder.run(replayFile(file));
    const unfiltered = all.rows('SELECT operation, path FROM file_events ORDER BY id');

    const r = rig({
      'map_filters.json': { version: 1, rules: [{ id: 'drop-tests', family: 'file', action: 'exclude', when: { field: 'path', beginsWith: '/home/alessandro/test_file' } }] },
      'watchlist.json': { version: 1, paths: ['/home/alessandro/test_file5'] },
    });
    await r.recorder.run(replayFile(file));
    const expected = unfiltered.filter((x) => !String(x.path).startsWith('/home/alessandro/test_file') || x.path === '/home/alessandro/test_file5');
    expect(r.rows('SELECT operation, path FROM file_events ORDER BY id')).toEqual(expected);
    expect(expected.some((x) => x.path === '/home/alessandro/test_file5')).toBe(true);
  });

  it('switch off a whole family with MonitorFiles = 0', async () => {
    const r = rig({ 'recorder.json': { MonitorFiles: 0 } });
    await r.recorder.run(replayFile(corpus('osquery/process_file_events_tests.extracted.log')));
    expect(count(r, 'file_events')).toBe(0);
    expect(r.recorder.pipeline.stats().families.file.disabled).toBe(27);
  });
});

/** n execve events, each a SYSCALL + EXECVE + EOE, one second apart; pids above Linux's pid_max never clash with the test's own. */
function execveLines(n: number, t0 = 1_700_000_000): string[] {
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const ts = `${t0 + i}.000:${i + 1}`;
    lines.push(
      `type=SYSCALL msg=audit(${ts}): arch=c000003e syscall=59 success=yes exit=0 a0=1 a1=2 a2=3 a3=4 items=2 ppid=1 pid=${5_000_000 + i} auid=1000 uid=1000 gid=1000 euid=1000 suid=1000 fsuid=1000 egid=1000 sgid=1000 fsgid=1000 tty=pts0 ses=1 comm="true" exe="/usr/bin/true" key=(null)`,
      `type=EXECVE msg=audit(${ts}): argc=2 a0="true" a1="${i}"`,
      `type=EOE msg=audit(${ts}): `,
    );
  }
  return lines;
}

describe('signals', () => {
  it('attach matching signal names to events and keep RecordSignalMatches of them per signal', async () => {
    const r = rig({
      'recorder.json': { RecordSignalMatches: 3 },
      'signals.json': { version: 1, signals: [{ id: 'rm-by-user', name: 'rm by a user', severity: 'low', family: 'process', when: { all: [{ field: 'exe', endsWith: '/rm' }, { field: 'process.uid', gte: 1000 }] } }] },
    });
    await r.recorder.run(replayFile(corpus('hub/auditd-postexploit-rm.log')));
    expect(r.recorder.pipeline.stats().signalMatches).toBe(10);
    const kept = r.rows("SELECT family, event_id FROM signal_matches WHERE signal_name = 'rm by a user' ORDER BY time");
    expect(kept).toHaveLength(3);
    expect(kept.every((m) => m.family === 'process')).toBe(true);
  });
});

describe('PendingEventCap', () => {
  it('drops and counts a burst beyond the cap while the writer holds its batch, keeping memory bounded', () => {
    // BatchWriteDelayMS 5000 and a large NewEventLimit: nothing is saved during the burst, so every
    // event stays in flight and the cap is what bounds memory.
    const r = rig({ 'recorder.json': { PendingEventCap: 500, BatchWriteDelayMS: 5000, NewEventLimit: 100000 } });
    const lines = execveLines(20_000);
    const heapBefore = retainedHeap();
    for (let i = 0; i < lines.length; i += 3000) r.recorder.pipeline.feed(lines.slice(i, i + 3000));
    const heapGrowth = retainedHeap() - heapBefore;
    expect(r.recorder.writer.pending).toBe(500);
    // Measured after a collection: about 11 MB with the cap of 500, about 21 MB with no cap.
    expect(heapGrowth).toBeLessThan(16 * 1024 * 1024);
    r.recorder.pipeline.finish(); // emits the last open event (dropped too) and saves the 500
    expect(r.recorder.pipeline.stats().families.process).toMatchObject({ recorded: 500, dropped: 19_500 });
    expect(count(r, 'process_events')).toBe(500);
    r.recorder.persistCounters();
    expect(JSON.parse(r.db.getMeta('recorder_counters')!)).toMatchObject({ droppedTotal: 19_500, dropped: { process: 19_500 } });
  });
});

describe('retention with an injected clock', () => {
  it('deletes events older than MonitorDays at the first due cleanup, not before', async () => {
    const r = rig({ 'recorder.json': { MonitorDays: 30 } });
    const t0 = 1_700_000_000; // 2023-11-14
    r.clock.now = t0 * 1000;
    r.recorder.pipeline.feed(execveLines(100, t0));
    r.recorder.pipeline.finish();
    r.clock.now = (t0 + 29 * 86_400) * 1000;
    r.recorder.housekeeping();
    expect(count(r, 'process_events')).toBe(100);
    expect(r.db.getMeta('last_cleanup')).toBe(String(r.clock.now));
    r.clock.now = (t0 + 31 * 86_400) * 1000; // 31 days later and 2 days after the last cleanup
    r.recorder.housekeeping();
    expect(count(r, 'process_events')).toBe(0);
  });
});

describe('process samples and executable hashes', () => {
  it('stores CPU and memory samples of running processes every processSampleIntervalSeconds', () => {
    const r = rig({ 'recorder.json': { processSampleIntervalSeconds: 30 } }, { sampler: new ProcSampler() });
    r.clock.now += 30_000;
    r.recorder.housekeeping(); // baseline read
    const end = Date.now() + 50;
    while (Date.now() < end); // burn a little CPU so this process shows up
    r.clock.now += 30_000;
    r.recorder.housekeeping();
    const mine = r.rows(`SELECT s.cpu_percent, s.rss_bytes FROM process_samples s JOIN processes p ON p.id = s.process_id WHERE p.pid = ${process.pid}`);
    expect(mine).toHaveLength(1);
    expect(Number(mine[0].rss_bytes)).toBeGreaterThan(10 * 1024 * 1024);
    r.clock.now += 10_000;
    r.recorder.housekeeping(); // not due yet
    expect(r.rows('SELECT count(DISTINCT time) AS n FROM process_samples')[0].n).toBe(1);
  });

  it('hashes the executable of each exec, once per file version', () => {
    const r = rig({}, { hashExecutables: true });
    const exe = realpathSync(process.execPath);
    const sha = createHash('sha256').update(readFileSync(exe)).digest('hex');
    const lines = execveLines(3).map((l) => l.replace('exe="/usr/bin/true"', `exe="${exe}"`));
    r.recorder.pipeline.feed(lines);
    r.recorder.pipeline.finish();
    expect(r.rows('SELECT DISTINCT exe_sha256 FROM processes')).toEqual([{ exe_sha256: sha }]);
    expect(r.recorder.pipeline.stats().exeHashes).toEqual({ hits: 2, misses: 1 });
  });
});

describe('MaxRuntimeStorageSizeMB', () => {
  it('disables the recorder and ends the run when monitor.db grows past the runtime limit', async () => {
    const r = rig({ 'recorder.json': { MaxRuntimeStorageSizeMB: 1, BatchWriteDelayMS: 0 } });
    async function* growing() {
      const lines = execveLines(20_000);
      for (let i = 0; i < lines.length; i += 3000) {
        yield lines.slice(i, i + 3000);
        r.recorder.housekeeping();
      }
    }
    const end = await r.recorder.run(growing());
    expect(end.kind).toBe('disabled');
    expect(r.db.disableTraceStatus().reason).toMatch(/above the runtime limit of 1 MB/);
    expect(r.recorder.disabled()).not.toBeNull();
  });
});

describe('throttle and periodic reset', () => {
  it('throttle processes at most NewEventLimit lines per second, waiting instead of dropping', async () => {
    const waits: number[] = [];
    const ref: { clock?: { now: number } } = {};
    const r = rig(
      { 'recorder.json': { throttle: true, NewEventLimit: 300 } },
      {
        sleep: async (ms: number) => {
          waits.push(ms);
          ref.clock!.now += ms;
        },
      },
    );
    ref.clock = r.clock;
    const lines = execveLines(400); // 1200 lines
    async function* batches() {
      for (let i = 0; i < lines.length; i += 150) yield lines.slice(i, i + 150);
    }
    await r.recorder.run(batches());
    expect(waits.length).toBe(4); // every 300 lines
    expect(waits.every((ms) => ms === 1000)).toBe(true);
    expect(count(r, 'process_events')).toBe(400);
  });

  it('forgets the in-memory process table every ResetIntervalMinutes', () => {
    const r = rig({ 'recorder.json': { ResetIntervalMinutes: 10, ProcessExpirationSeconds: 3600 } });
    r.recorder.pipeline.feed(execveLines(50, Math.floor(r.clock.now / 1000)));
    expect(r.recorder.pipeline.tracker.size).toBe(50);
    r.clock.now += 9 * 60_000;
    r.recorder.housekeeping();
    expect(r.recorder.pipeline.tracker.size).toBe(50);
    r.clock.now += 60_000;
    r.recorder.housekeeping();
    expect(r.recorder.pipeline.tracker.size).toBe(0);
  });
});

describe('CPU kill switch', () => {
  it('after cpuKillAfterNumViolations windows above cpuThreshold: stops, removes its audit rules, records why, stays stopped', async () => {
    const root = makeTempDir('rec-audit-root-');
    cleanups.push(root.remove);
    mkdirSync(join(root.dir, 'etc', 'audit'), { recursive: true });
    writeFileSync(join(root.dir, 'etc', 'audit', 'auditd.conf'), 'log_format = RAW\n');
    writeFileSync(join(root.dir, 'etc', 'audit', 'audit.rules'), '-D\n-e 2\n');
    applyPlan(planInstall({ root: root.dir, recorderPath: '/opt/r', configDir: '/opt/c', rawLogging: undefined, arch: 'x64' }));
    const rulesFile = join(root.dir, 'etc', 'audit', 'audit.rules');
    expect(readFileSync(rulesFile, 'utf8')).toContain(RULES_BEGIN);

    const r = rig(
      { 'recorder.json': { cpuThreshold: 0.1, cpuThresholdMinutes: 2, cpuKillAfterNumViolations: 2 } },
      { removeAuditRules: auditRuleRemover(root.dir, silent) },
    );
    // A source that never ends on its own: only the kill switch can end this run.
    const idle = new AbortController();
    cleanups.push(() => idle.abort());
    async function* forever() {
      await new Promise((resolve) => idle.signal.addEventListener('abort', resolve));
      yield [] as string[];
    }
    const running = r.recorder.run(forever(), { housekeepingMs: 60_000 });
    const burn = (minutes: number, share: number) => {
      r.clock.now += minutes * 60_000;
      r.cpu.micros += minutes * 60_000 * 1000 * 2 * share;
      r.recorder.housekeeping();
    };
    burn(2, 0.5); // first violation: tolerated
    expect(r.recorder.disabled()).toBeNull();
    burn(2, 0.05); // quiet window resets the count
    burn(2, 0.5);
    expect(r.recorder.disabled()).toBeNull();
    burn(2, 0.5); // second consecutive violation: fires
    const end = await running;
    expect(end.kind).toBe('disabled');
    const status = r.db.disableTraceStatus();
    expect(status.disabled).toBe(true);
    expect(status.reason).toContain('above cpuThreshold 10.0% for 2 consecutive window(s)');
    expect(readFileSync(rulesFile, 'utf8')).toBe('-D\n-e 2\n');
    // SPEC 2.4: it never restarts by itself — a later recorder reads the stored reason.
    expect(r.recorder.disabled()).toBe(status.reason);
  });

  it('only reports violations when cpuKillEnabled is false', () => {
    const r = rig({ 'recorder.json': { cpuKillEnabled: false } });
    for (let i = 0; i < 3; i++) {
      r.clock.now += 60_000;
      r.cpu.micros += 60_000 * 1000 * 2;
      r.recorder.housekeeping();
    }
    expect(r.recorder.disabled()).toBeNull();
  });
});

// The osquery corpus: one process opens test_file O_RDWR|O_CREAT as fd 4, dups it to 5, 10 and 11,
// closes 11, opens three more descriptors (7, 8, 9), then writes, pwrites and ftruncates fd 4.
const OSQUERY = 'osquery/process_file_events_tests.extracted.log';
const TEST_FILE = '/home/alessandro/test_file';
const fdRows = (r: Rig) => r.rows("SELECT path, json_extract(details, '$.syscall') AS syscall FROM file_events WHERE json_extract(details, '$.pathFromFd') ORDER BY id");
const statusText = (r: Rig) => formatStatus(gatherStatus(loadConfig(r.dir), r.db, r.dir));

describe('MaxFileHandlesPerProcess', () => {
  it('names the file of write, pwrite64 and ftruncate on a tracked descriptor (default 500)', async () => {
    const r = rig();
    await r.recorder.run(replayFile(corpus(OSQUERY)));
    expect(fdRows(r)).toEqual([
      { path: TEST_FILE, syscall: 'write' },
      { path: TEST_FILE, syscall: 'pwrite' },
      { path: TEST_FILE, syscall: 'ftruncate' },
    ]);
    const s = r.recorder.pipeline.stats();
    expect(s.fileHandles).toMatchObject({ evicted: 0, resolved: 3 });
    expect(s.skippedByReason['no-path']).toBe(2); // write(1): stdout was never opened in the log
    expect(statusText(r)).toContain('file handles: 3 fd-based events named, 0 evicted (MaxFileHandlesPerProcess 500)');
  });

  it('0 tracks no descriptor: the fd-based writes have no path and are skipped', async () => {
    const r = rig({ 'recorder.json': { MaxFileHandlesPerProcess: 0 } });
    await r.recorder.run(replayFile(corpus(OSQUERY)));
    expect(fdRows(r)).toEqual([]);
    expect(count(r, 'file_events')).toBe(22);
    expect(r.recorder.pipeline.stats().skippedByReason['no-path']).toBe(5);
    expect(r.recorder.pipeline.stats().fileHandles.tracked).toBe(0);
  });

  it('a small cap evicts the least recently used descriptor, counted in --status', async () => {
    // Cap 4: the dups touch fd 4, so the idle dups 5 and 10 go first and fd 4 is still named.
    const lru = rig({ 'recorder.json': { MaxFileHandlesPerProcess: 4 } });
    await lru.recorder.run(replayFile(corpus(OSQUERY)));
    expect(fdRows(lru)).toHaveLength(3);
    expect(lru.recorder.pipeline.stats().fileHandles).toEqual({ tracked: 4, evicted: 2, resolved: 3 });
    // Cap 1: every newer descriptor pushes fd 4 out; its writes are unnamed.
    const one = rig({ 'recorder.json': { MaxFileHandlesPerProcess: 1 } });
    await one.recorder.run(replayFile(corpus(OSQUERY)));
    expect(fdRows(one)).toEqual([]);
    expect(one.recorder.pipeline.stats().fileHandles).toEqual({ tracked: 1, evicted: 4, resolved: 0 });
    expect(statusText(one)).toContain('file handles: 0 fd-based events named, 4 evicted (MaxFileHandlesPerProcess 1)');
  });

  it('forgets a process\'s descriptors after ProcessExpirationSeconds of silence, or when /proc no longer lists it', async () => {
    const r = rig({ 'recorder.json': { ProcessExpirationSeconds: 60 } });
    await r.recorder.run(replayFile(corpus(OSQUERY)));
    expect(r.recorder.pipeline.stats().fileHandles.tracked).toBe(6);
    r.clock.now += 60_000;
    r.recorder.housekeeping();
    expect(r.recorder.pipeline.stats().fileHandles.tracked).toBe(6); // not silent for longer yet
    r.clock.now += 1;
    r.recorder.housekeeping();
    expect(r.recorder.pipeline.stats().fileHandles.tracked).toBe(0);

    // A /proc listing without pid 5581 (injected: the real pid may exist on this machine) drops it at the next sample.
    const listing = { sample: () => [], alive: new Set([process.pid]) } as unknown as ProcSampler;
    const live = rig({ 'recorder.json': { processSampleIntervalSeconds: 1 } }, { sampler: listing });
    await live.recorder.run(replayFile(corpus(OSQUERY)));
    expect(live.recorder.pipeline.stats().fileHandles.tracked).toBe(6);
    live.clock.now += 1_000;
    live.recorder.housekeeping();
    expect(live.recorder.pipeline.stats().fileHandles.tracked).toBe(0);
  });
});

describe('ConfirmFileWrites', () => {
  const writes = (r: Rig) =>
    r.rows("SELECT path, json_extract(details, '$.serial') AS serial, json_extract(details, '$.mtime') AS mtime, json_extract(details, '$.mtimeUnconfirmed') AS gone FROM file_events WHERE operation = 'write' ORDER BY id");
  const ALL_WRITES = [46800, 46810, 46817, 46819, 46824, 46826, 46827];

  it('0 (default) records every write without looking at the file', async () => {
    const asked: string[] = [];
    const r = rig({}, { localFiles: true, mtimeOf: (p) => (asked.push(p), 1) });
    await r.recorder.run(replayFile(corpus(OSQUERY)));
    expect(writes(r).map((w) => w.serial)).toEqual(ALL_WRITES);
    expect(asked).toEqual([]);
    expect(statusText(r)).toContain('file writes: not confirmed (ConfirmFileWrites 0)');
  });

  it('1 drops writes that left the mtime unchanged (the first sighting of a path counts as changed)', async () => {
    const r = rig({ 'recorder.json': { ConfirmFileWrites: 1 } }, { localFiles: true, mtimeOf: () => 1_700_000_000_000 });
    await r.recorder.run(replayFile(corpus(OSQUERY)));
    expect(writes(r)).toEqual([
      { path: TEST_FILE, serial: 46800, mtime: 1_700_000_000_000, gone: null },
      { path: '/home/alessandro', serial: 46817, mtime: 1_700_000_000_000, gone: null },
    ]);
    expect(r.recorder.pipeline.stats().writeConfirmation).toEqual({ unconfirmed: 5, missing: 0, rememberedPaths: 2 });
    expect(statusText(r)).toContain('confirmed by mtime (ConfirmFileWrites), 5 unconfirmed dropped, 0 kept with the file gone');
  });

  it('1 keeps every write whose mtime moved, and keeps (and marks) writes to files that are gone', async () => {
    let t = 0;
    const moving = rig({ 'recorder.json': { ConfirmFileWrites: true } }, { localFiles: true, mtimeOf: () => ++t });
    await moving.recorder.run(replayFile(corpus(OSQUERY)));
    expect(writes(moving).map((w) => w.serial)).toEqual(ALL_WRITES);
    expect(writes(moving).map((w) => w.mtime)).toEqual([1, 2, 3, 4, 5, 6, 7]);

    const gone = rig({ 'recorder.json': { ConfirmFileWrites: 1 } }, { localFiles: true, mtimeOf: (p) => (p === TEST_FILE ? undefined : 5) });
    await gone.recorder.run(replayFile(corpus(OSQUERY)));
    const rows = writes(gone);
    expect(rows.filter((w) => w.path === TEST_FILE).map((w) => w.gone)).toEqual(Array(5).fill('file no longer exists'));
    expect(rows.filter((w) => w.path !== TEST_FILE)).toHaveLength(1);
    expect(gone.recorder.pipeline.stats().writeConfirmation).toMatchObject({ unconfirmed: 1, missing: 5 });
  });

  it('is not applied to a replayed log of another machine (its paths are not this machine\'s files)', async () => {
    const r = rig({ 'recorder.json': { ConfirmFileWrites: 1 } }, { mtimeOf: () => 1 });
    await r.recorder.run(replayFile(corpus(OSQUERY)));
    expect(writes(r)).toHaveLength(ALL_WRITES.length);
    expect(r.recorder.pipeline.stats().writeConfirmation.unconfirmed).toBe(0);
  });
});
