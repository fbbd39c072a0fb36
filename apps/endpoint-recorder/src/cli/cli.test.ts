// The built recorder CLI as an operator runs it: replay, --status, sqlite3 on the views,
// --stop/--start, install-audit under a temp root, config errors, and `run --follow`.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { distEntry, makeTempDir, sharedRoot, waitFor, workspaceRoot } from '@dc/service-kit/testing';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';

const main = distEntry('apps/endpoint-recorder');
const corpus = (rel: string) => join(sharedRoot, 'corpora', rel);
const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c();
});

beforeAll(() => {
  // The test target depends on build; building here too keeps `npx vitest run` honest.
  execFileSync(process.execPath, [join(workspaceRoot, 'tools/build/build.mjs'), 'apps/endpoint-recorder'], { cwd: workspaceRoot, stdio: 'ignore' });
}, 60_000);

function recorder(args: string[], cwd?: string) {
  const r = spawnSync(process.execPath, [main, ...args], { encoding: 'utf8', timeout: 60_000, ...(cwd ? { cwd } : {}) });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function tempDir(prefix: string): string {
  const t = makeTempDir(prefix);
  cleanups.push(t.remove);
  return t.dir;
}

describe('recorder CLI', () => {
  it('replays corpora, then --status shows the counts and sqlite3 can query every view', () => {
    const dir = tempDir('rec-cli-');
    const first = recorder(['replay', corpus('laurel/shell-proc-trace.txt'), '--config', dir]);
    expect(first.code).toBe(0);
    expect(first.out).toMatch(/^replayed .*shell-proc-trace\.txt: 75 lines, 39 audit records, 9 audit events in [\d.]+ s \(\d+ events\/s/);
    expect(first.out).toContain('events written: process 4, file 0, network 0, security 0 (total 4)');
    expect(first.out).toContain('malformed lines: 24');
    expect(first.out).toContain('dropped (PendingEventCap): 0');

    const second = recorder(['replay', corpus('beats/auditbeat_sudo.log'), '--config', dir, '--json']);
    expect(JSON.parse(second.out)).toMatchObject({ events: { security: 20 }, dropped: 0, malformed: 0 });

    const status = recorder(['--status', '--config', dir, '--audit-root', dir]);
    expect(status.code).toBe(0);
    expect(status.out).toContain('recorder: not running');
    expect(status.out).toContain('events: process 4, file 0, network 0, security 20');
    expect(status.out).toContain('dropped events: 0');
    expect(status.out).toContain('malformed lines: 24');
    expect(status.out).toMatch(/size [\d.]+ MB of 1024 MB \(runtime limit 2048 MB\)/);
    expect(status.out).toContain('last cleanup: never');
    expect(status.out).toContain('auditd: NOT present');

    const db = join(dir, 'monitor.db');
    const views = execFileSync('sqlite3', [db, "SELECT name FROM sqlite_master WHERE type = 'view' ORDER BY name"], { encoding: 'utf8' }).trim().split('\n');
    expect(views.length).toBeGreaterThanOrEqual(5);
    for (const view of views) execFileSync('sqlite3', [db, `SELECT * FROM ${view} LIMIT 5`], { encoding: 'utf8' });
    expect(execFileSync('sqlite3', [db, 'SELECT count(*) FROM v_timeline'], { encoding: 'utf8' }).trim()).toBe('24');
  });

  it('--stop records why, --status says stopped, --start clears it', () => {
    const dir = tempDir('rec-cli-');
    expect(recorder(['--stop', '--config', dir]).code).toBe(0);
    const stopped = JSON.parse(recorder(['--status', '--json', '--config', dir]).out);
    expect(stopped).toMatchObject({ state: 'stopped', reason: 'stopped by the operator (recorder --stop)' });
    const started = recorder(['--start', '--config', dir]);
    expect(started.out).toContain('recorder started (DisableTrace cleared; it was stopped because: stopped by the operator (recorder --stop))');
    expect(JSON.parse(recorder(['--status', '--json', '--config', dir]).out)).toMatchObject({ state: 'not running', reason: null });
  });

  it('install-audit --dry-run prints a diff and writes nothing; install-audit writes; status reports the restart', () => {
    const dir = tempDir('rec-cli-');
    const root = tempDir('rec-root-');
    mkdirSync(join(root, 'etc/audit'), { recursive: true });
    mkdirSync(join(root, 'etc/audisp'), { recursive: true });
    writeFileSync(join(root, 'etc/audit/auditd.conf'), 'log_format = RAW\n');
    writeFileSync(join(root, 'etc/audisp/audispd.conf'), 'q_depth = 80\n');
    writeFileSync(join(root, 'etc/audit/audit.rules'), '-D\n-e 2\n');
    writeFileSync(join(dir, 'recorder.json'), JSON.stringify({ rawLogging: true }));
    writeFileSync(join(dir, 'im_recorder.json'), JSON.stringify({ rawLogging: false }));

    const dry = recorder(['install-audit', '--config', dir, '--root', root, '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.out).toContain('-q_depth = 80\n+q_depth = 32768\n');
    expect(dry.out).toContain('+write_logs = no\n'); // SPEC 2.7: rawLogging false if any file says false
    expect(dry.out).toContain('would need: ');
    expect(readFileSync(join(root, 'etc/audisp/audispd.conf'), 'utf8')).toBe('q_depth = 80\n');

    const real = recorder(['install-audit', '--config', dir, '--root', root]);
    expect(real.code).toBe(0);
    expect(readFileSync(join(root, 'etc/audisp/audispd.conf'), 'utf8')).toBe('q_depth = 32768\n');
    expect(readFileSync(join(root, 'etc/audisp/audispd.conf.pretrace'), 'utf8')).toBe('q_depth = 80\n');
    expect(readFileSync(join(root, 'etc/audit/plugins.d/trace.conf'), 'utf8')).toContain(`args = plugin ${dir}`);
    const status = recorder(['--status', '--config', dir, '--audit-root', root]);
    expect(status.out).toContain('auditd: present');
    expect(status.out).toContain('restart needed: ');
    expect(status.out).toContain('-e 2');

    expect(recorder(['uninstall-audit', '--root', root]).code).toBe(0);
    expect(readFileSync(join(root, 'etc/audit/audit.rules'), 'utf8')).toBe('-D\n-e 2\n');
    expect(existsSync(join(root, 'etc/audit/plugins.d/trace.conf'))).toBe(false);
  });

  it('--status --check reports a corrupt monitor.db and --recreate-db replaces it (SPEC 2.10.2)', () => {
    const dir = tempDir('rec-cli-');
    writeFileSync(join(dir, 'monitor.db'), 'this is not an SQLite database, just bytes '.repeat(200));
    const bad = recorder(['--status', '--check', '--config', dir]);
    expect(bad.code).toBe(1);
    expect(bad.out).toContain('database: CORRUPT');
    const re = recorder(['--recreate-db', '--config', dir]);
    expect(re.code).toBe(0);
    expect(re.out).toMatch(/monitor\.db recreated at .*monitor\.db \(old file kept as .*corrupt/);
    const good = recorder(['--status', '--check', '--config', dir]);
    expect(good.code).toBe(0);
    expect(good.out).toContain('integrity: ok');
  });

  it('refuses a bad configuration with one clear line naming file, key and range', () => {
    const dir = tempDir('rec-cli-');
    writeFileSync(join(dir, 'recorder.json'), JSON.stringify({ cpuThresholdMinutes: 5000 }));
    const r = recorder(['--status', '--config', dir]);
    expect(r.code).toBe(1);
    expect(r.err).toBe('recorder: recorder.json: key "cpuThresholdMinutes" must be an integer from 1 to 1440 (got 5000)\n');
  });

  it('as an audispd plugin, records the events written to its stdin and exits when stdin closes', async () => {
    const dir = tempDir('rec-cli-');
    const child = spawn(process.execPath, [main, 'plugin', dir], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    cleanups.push(() => child.kill('SIGKILL'));
    child.stdin.end(readFileSync(corpus('beats/auditbeat_sudo.log')));
    expect(await exited).toBe(0);
    expect(stderr).toBe('');
    expect(JSON.parse(recorder(['--status', '--json', '--config', dir]).out)).toMatchObject({ state: 'not running', eventsByFamily: { security: 20 } });
  });

  it('as an audispd plugin, saves what it has and exits on SIGTERM while stdin stays open', async () => {
    const dir = tempDir('rec-cli-');
    writeFileSync(join(dir, 'recorder.json'), JSON.stringify({ EventQueueExpirationSeconds: 1 }));
    const child = spawn(process.execPath, [main, 'plugin', dir], { stdio: ['pipe', 'pipe', 'pipe'] });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    cleanups.push(() => child.kill('SIGKILL'));
    child.stdin.write(readFileSync(corpus('hub/auditd-postexploit-rm.log')));
    await waitFor(() => existsSync(join(dir, 'recorder.pid')) && readFileSync(join(dir, 'recorder.log'), 'utf8').includes('recorder started'), { what: 'the plugin to start' });
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(JSON.parse(recorder(['--status', '--json', '--config', dir]).out)).toMatchObject({ eventsByFamily: { process: 10 } });
  });

  it('run --follow records appended lines, shows as running, and stops on SIGTERM', async () => {
    const dir = tempDir('rec-cli-');
    writeFileSync(join(dir, 'recorder.json'), JSON.stringify({ BatchWriteDelayMS: 0, processSampleIntervalSeconds: 0, EventQueueExpirationSeconds: 1 }));
    const log = join(dir, 'audit.log');
    writeFileSync(log, '');
    const child = spawn(process.execPath, [main, 'run', '--config', dir, '--follow', log, '--from-start'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    cleanups.push(() => child.kill('SIGKILL'));
    await waitFor(() => existsSync(join(dir, 'recorder.pid')), { what: 'the pid file' });
    expect(JSON.parse(recorder(['--status', '--json', '--config', dir]).out)).toMatchObject({ state: 'running', pid: child.pid });
    const processEvents = () => (JSON.parse(recorder(['--status', '--json', '--config', dir]).out) as { eventsByFamily: { process: number } }).eventsByFamily.process;
    appendFileSync(log, readFileSync(corpus('hub/auditd-postexploit-rm.log')));
    await waitFor(() => processEvents() === 10, { what: 'ten process events in monitor.db', timeoutMs: 20_000, intervalMs: 200 });

    // --stop while running: the recorder notices DisableTrace and discards input (SPEC 2.4).
    recorder(['--stop', '--config', dir]);
    await waitFor(() => readFileSync(join(dir, 'recorder.log'), 'utf8').includes('recorder stopped (DisableTrace)'), { what: 'the stop to be noticed' });
    appendFileSync(log, readFileSync(corpus('laurel/shell-proc-trace.txt')));
    // --start: recording resumes with what arrives from now on.
    recorder(['--start', '--config', dir]);
    await waitFor(() => readFileSync(join(dir, 'recorder.log'), 'utf8').includes('recorder started again'), { what: 'the start to be noticed' });
    appendFileSync(log, readFileSync(corpus('hub/auditd-postexploit-rm.log')));
    await waitFor(() => processEvents() === 20, { what: 'ten more process events', timeoutMs: 20_000, intervalMs: 200 });
    expect(processEvents()).toBe(20); // the 4 execs written while stopped were not recorded

    // SIGHUP re-reads recorder.json: the log level changes while running.
    writeFileSync(join(dir, 'recorder.json'), JSON.stringify({ BatchWriteDelayMS: 0, processSampleIntervalSeconds: 0, EventQueueExpirationSeconds: 1, logLevel: 'Debug' }));
    child.kill('SIGHUP');
    await waitFor(() => readFileSync(join(dir, 'recorder.log'), 'utf8').includes('"logLevel":"debug","msg":"configuration reloaded'), { what: 'the reload' });
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(stderr).toBe('');
    expect(existsSync(join(dir, 'recorder.pid'))).toBe(false);
    expect(readFileSync(join(dir, 'recorder.log'), 'utf8')).toContain('"msg":"recorder stopped"');
  });
});
