// install-audit under a temp root: backups, q_depth, plugin, rules before `-e 2`, dry run, uninstall.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { installAuditCommand } from '../cli/commands';
import { loadConfig } from '../config/load-config';
import { planFileWatch } from './file-watch-scope';
import { applyPlan, AuditPlumbingError, describePlan, planInstall, planRemoveRules, planUninstall } from './install-audit';
import { RULES_BEGIN, RULES_END } from './recorder-rules';
import { unifiedDiff } from './unified-diff';

const roots: string[] = [];
afterEach(() => {
  for (const d of roots.splice(0)) rmSync(d, { recursive: true, force: true });
});

const AUDITD_CONF = 'log_file = /var/log/audit/audit.log\nlog_format = RAW\n# a comment we keep\nflush = INCREMENTAL_ASYNC\nnum_logs = 5\n';
const AUDISPD_CONF = 'q_depth = 80\noverflow_action = SYSLOG\npriority_boost = 4\n';
const RULES = '-D\n-b 8192\n-w /etc/passwd -p wa -k identity\n-e 2\n';

function fakeRoot(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'rec-root-'));
  roots.push(root);
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(join(root, rel, '..'), { recursive: true });
    writeFileSync(join(root, rel), text);
  }
  return root;
}
const opts = (root: string, rawLogging?: boolean) => ({ root, recorderPath: '/opt/dc/recorder', configDir: '/opt/dc/trace', rawLogging, arch: 'x64' });
const at = (root: string, rel: string) => readFileSync(join(root, rel), 'utf8');

describe('install-audit', () => {
  it('backs up each file once, sets q_depth 32768, writes the plugin and inserts rules before -e 2', () => {
    const root = fakeRoot({
      'etc/audit/auditd.conf': AUDITD_CONF,
      'etc/audisp/audispd.conf': AUDISPD_CONF,
      'etc/audit/audit.rules': RULES,
      'etc/audit/plugins.d/af_unix.conf': 'active = no\n',
    });
    const plan = planInstall(opts(root, false));
    expect(plan.restartNeeded).toContain('immutable flag "-e 2"');
    applyPlan(plan);

    expect(at(root, 'etc/audisp/audispd.conf')).toBe('q_depth = 32768\noverflow_action = SYSLOG\npriority_boost = 4\n');
    expect(at(root, 'etc/audisp/audispd.conf.pretrace')).toBe(AUDISPD_CONF);
    expect(at(root, 'etc/audit/auditd.conf')).toBe(`${AUDITD_CONF}write_logs = no\n`);
    expect(at(root, 'etc/audit/auditd.conf.pretrace')).toBe(AUDITD_CONF);
    expect(at(root, 'etc/audit/audit.rules.pretrace')).toBe(RULES);
    const rules = at(root, 'etc/audit/audit.rules').split('\n');
    expect(rules.indexOf(RULES_END)).toBe(rules.indexOf('-e 2') - 1);
    expect(rules.slice(0, 4)).toEqual(['-D', '-b 8192', '-w /etc/passwd -p wa -k identity', '']);
    expect(rules).toContain('-a always,exit -F arch=b64 -S execve,execveat -k dc_rec_process');
    expect(at(root, 'etc/audit/plugins.d/trace.conf')).toContain('args = plugin /opt/dc/trace\nformat = string\n');
    expect(existsSync(join(root, 'etc/audit/plugins.d/trace.conf.pretrace'))).toBe(false);

    // A second install changes nothing and keeps the first backups.
    writeFileSync(join(root, 'etc/audit/auditd.conf'), `${AUDITD_CONF}write_logs = yes\n`);
    applyPlan(planInstall(opts(root, false)));
    expect(at(root, 'etc/audit/auditd.conf.pretrace')).toBe(AUDITD_CONF);
    expect(planInstall(opts(root, false)).changes).toEqual([]);
  });

  it('puts q_depth in auditd.conf when there is no audispd.conf, and leaves logging alone when rawLogging is unset', () => {
    const root = fakeRoot({ 'etc/audit/auditd.conf': AUDITD_CONF });
    const plan = planInstall(opts(root, undefined));
    applyPlan(plan);
    expect(at(root, 'etc/audit/auditd.conf')).toBe(`${AUDITD_CONF}q_depth = 32768\n`);
    expect(plan.restartNeeded).toContain('restart auditd');
    expect(at(root, 'etc/audit/audit.rules').startsWith(`${RULES_BEGIN}\n`)).toBe(true);
  });

  it('turns raw logging back on from NOLOG when rawLogging is true', () => {
    const root = fakeRoot({ 'etc/audit/auditd.conf': 'log_format = NOLOG\n', 'etc/audisp/audispd.conf': AUDISPD_CONF });
    applyPlan(planInstall(opts(root, true)));
    expect(at(root, 'etc/audit/auditd.conf')).toBe('log_format = RAW\nwrite_logs = yes\n');
  });

  it('refuses when auditd is not installed, and when a value it would write is invalid', () => {
    expect(() => planInstall(opts(fakeRoot({})))).toThrow(/auditd is not installed: .*auditd.conf does not exist/);
    const root = fakeRoot({ 'etc/audit/auditd.conf': AUDITD_CONF });
    expect(() => planInstall({ ...opts(root), configDir: '/opt/my trace dir' })).toThrow(AuditPlumbingError);
    expect(() => planInstall({ ...opts(root), configDir: '/opt/my trace dir' })).toThrow(
      'trace.conf: key "args" must have at most 2 arguments (got "plugin /opt/my trace dir")',
    );
  });

  it('notes existing invalid values without touching them', () => {
    const root = fakeRoot({ 'etc/audit/auditd.conf': 'num_logs = 120\ntcp_max_per_addr = 40\n' });
    const notes = planInstall(opts(root)).notes;
    expect(notes).toContain(`left as is: ${join(root, 'etc/audit/auditd.conf')}: key "num_logs" must be an integer from 0 to 99 (got "120")`);
    expect(notes.some((n) => n.includes('"tcp_max_per_addr" must be an integer from 1 to 16'))).toBe(true);
  });

  it('dry run describes the change as a unified diff and writes nothing', () => {
    const root = fakeRoot({ 'etc/audit/auditd.conf': AUDITD_CONF, 'etc/audisp/audispd.conf': AUDISPD_CONF, 'etc/audit/audit.rules': RULES });
    const diff = describePlan(planInstall(opts(root, false)));
    expect(diff).toContain(`--- ${join(root, 'etc/audisp/audispd.conf')}\n+++ ${join(root, 'etc/audisp/audispd.conf')}\n@@ -1,3 +1,3 @@\n-q_depth = 80\n+q_depth = 32768\n`);
    expect(diff).toContain('--- /dev/null\n');
    expect(diff).toContain(`+${RULES_BEGIN}`);
    expect(at(root, 'etc/audisp/audispd.conf')).toBe(AUDISPD_CONF);
    expect(existsSync(join(root, 'etc/audit/plugins.d/trace.conf'))).toBe(false);
  });

  it('removes exactly its rules block, and uninstall restores every backup', () => {
    const root = fakeRoot({ 'etc/audit/auditd.conf': AUDITD_CONF, 'etc/audisp/audispd.conf': AUDISPD_CONF, 'etc/audit/audit.rules': RULES });
    applyPlan(planInstall(opts(root, false)));
    applyPlan(planRemoveRules(root));
    expect(at(root, 'etc/audit/audit.rules')).toBe(RULES);
    applyPlan(planUninstall(root));
    expect(at(root, 'etc/audit/auditd.conf')).toBe(AUDITD_CONF);
    expect(at(root, 'etc/audisp/audispd.conf')).toBe(AUDISPD_CONF);
    expect(existsSync(join(root, 'etc/audit/auditd.conf.pretrace'))).toBe(false);
    expect(existsSync(join(root, 'etc/audit/plugins.d/trace.conf'))).toBe(false);
  });
});

describe('unifiedDiff', () => {
  it('prints separate hunks with three lines of context', () => {
    const a = Array.from({ length: 20 }, (_, i) => `l${i}`);
    const b = [...a];
    b[2] = 'X';
    b[17] = 'Y';
    expect(unifiedDiff('f', `${a.join('\n')}\n`, `${b.join('\n')}\n`)).toBe(
      ['--- f', '+++ f', '@@ -1,6 +1,6 @@', ' l0', ' l1', '-l2', '+X', ' l3', ' l4', ' l5', '@@ -15,6 +15,6 @@', ' l14', ' l15', ' l16', '-l17', '+Y', ' l18', ' l19', ''].join('\n'),
    );
  });
});

describe('onlyWatchFileRoot (SPEC 2.5): where the file rules look', () => {
  const FILE_RULE = /-k dc_rec_file$/;
  const configDir = (files: Record<string, unknown>) => {
    const dir = fakeRoot({});
    for (const [name, body] of Object.entries(files)) writeFileSync(join(dir, name), JSON.stringify(body));
    return dir;
  };
  const fileRules = (root: string) => at(root, 'etc/audit/audit.rules').split('\n').filter((l) => FILE_RULE.test(l));

  it('true (default): file rules without a path condition, i.e. the whole file system from /', () => {
    const root = fakeRoot({ 'etc/audit/auditd.conf': AUDITD_CONF });
    const watch = planFileWatch(loadConfig(configDir({ 'watchlist.json': { paths: ['/etc/'] } })), root);
    expect(watch.scope).toEqual({ kind: 'root' });
    const plan = planInstall({ ...opts(root), fileWatch: watch });
    expect(plan.notes).toContain('file events: the whole file system from / (onlyWatchFileRoot true)');
    applyPlan(plan);
    expect(fileRules(root)).toHaveLength(5);
    expect(fileRules(root).some((l) => / -F (dir|path)=/.test(l))).toBe(false);
  });

  it('false: file rules only on the watchlist paths (dir= below a directory, path= for a file), shown by the dry run', () => {
    const root = fakeRoot({ 'etc/audit/auditd.conf': AUDITD_CONF, 'etc/audit/audit.rules': RULES, 'usr/bin/sudo': 'binary', 'var/www/index.html': '' });
    const dir = configDir({ 'recorder.json': { onlyWatchFileRoot: false }, 'watchlist.json': { paths: ['/etc/', '/usr/bin/sudo', '/var/www', '/opt/missing', '/srv/my site'] } });
    const watch = planFileWatch(loadConfig(dir), root);
    expect(watch.scope).toEqual({ kind: 'paths', paths: [{ path: '/etc', dir: true }, { path: '/usr/bin/sudo', dir: false }, { path: '/var/www', dir: true }] });
    const plan = planInstall({ ...opts(root), fileWatch: watch });
    expect(plan.notes).toEqual(
      expect.arrayContaining([
        'file events: watchlist path /opt/missing does not exist: not watched (run install-audit again once it exists)',
        'file events: watchlist path "/srv/my site" left out (an audit rule takes an absolute path without spaces)',
        'file events: only the watchlist (onlyWatchFileRoot false): /etc/ and below, /usr/bin/sudo, /var/www/ and below',
      ]),
    );
    const diff = describePlan(plan);
    expect(diff).toContain('\n+-a always,exit -F arch=b64 -S openat -F a2&03 -F dir=/etc -F success=1 -k dc_rec_file\n');
    expect(diff).toContain('\n+-a always,exit -F arch=b64 -S chmod,fchmod,fchmodat,chown,fchown,fchownat,lchown -F path=/usr/bin/sudo -F success=1 -k dc_rec_file\n');
    applyPlan(plan);
    const rules = fileRules(root);
    expect(rules).toHaveLength(15); // 5 file rules × 3 paths
    expect(rules.every((l) => / -F (dir=\/etc|path=\/usr\/bin\/sudo|dir=\/var\/www) /.test(l))).toBe(true);
    expect(at(root, 'etc/audit/audit.rules')).toContain('-k dc_rec_process\n');

    // Back to true: the block is replaced by the whole-file-system rules.
    writeFileSync(join(dir, 'recorder.json'), '{"onlyWatchFileRoot": true}');
    applyPlan(planInstall({ ...opts(root), fileWatch: planFileWatch(loadConfig(dir), root) }));
    expect(fileRules(root)).toHaveLength(5);
    expect(fileRules(root).some((l) => l.includes(' -F dir='))).toBe(false);
  });

  it('false without a watchlist: no file rules at all (process and network rules stay), and the plan says so', () => {
    const root = fakeRoot({ 'etc/audit/auditd.conf': AUDITD_CONF });
    const dir = configDir({ 'recorder.json': { onlyWatchFileRoot: 0 } });
    const watch = planFileWatch(loadConfig(dir), root);
    const plan = planInstall({ ...opts(root), fileWatch: watch });
    expect(plan.notes).toContain(`file events: none — onlyWatchFileRoot is false and there is no ${join(dir, 'watchlist.json')}`);
    applyPlan(plan);
    expect(fileRules(root)).toEqual([]);
    expect(at(root, 'etc/audit/audit.rules')).toMatch(/-k dc_rec_process\n[^]*-k dc_rec_network\n/);
  });

  it('install-audit --dry-run prints the scoped rules and the scope note, and writes nothing', () => {
    const root = fakeRoot({ 'etc/audit/auditd.conf': AUDITD_CONF, 'etc/audit/audit.rules': RULES });
    const dir = configDir({ 'recorder.json': { onlyWatchFileRoot: false }, 'watchlist.json': { paths: ['/etc/'] } });
    let out = '';
    const code = installAuditCommand({ config: dir, root, dryRun: true }, { out: (t) => (out += t), err: (t) => (out += t) });
    expect(code).toBe(0);
    expect(out).toContain(' -F dir=/etc -F success=1 -k dc_rec_file\n');
    expect(out).toContain('note: file events: only the watchlist (onlyWatchFileRoot false): /etc/ and below\n');
    expect(at(root, 'etc/audit/audit.rules')).toBe(RULES);
  });
});
