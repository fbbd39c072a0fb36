// install-audit / uninstall-audit / rule removal: plans the changes to the audit plumbing of
// SPEC 2.3 under a root directory, then applies them (backup `*.pretrace` first, atomic writes).
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, unlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from './atomic-write';
import { AUDITD_SETTINGS, DISPATCHER_SETTINGS, PLUGIN_SETTINGS, validateSettings } from './audit-settings';
import { ConfFile } from './conf-file';
import type { PlannedFileWatch } from './file-watch-scope';
import { withoutRecorderRules, withRecorderRules } from './recorder-rules';
import { unifiedDiff } from './unified-diff';

/** SPEC 2.3: the dispatcher queue the recorder needs (audispd default is 80). */
export const RECORDER_Q_DEPTH = 32768;
export const BACKUP_SUFFIX = '.pretrace';

/** Thrown when the plumbing cannot be changed safely (auditd missing, invalid value…). */
export class AuditPlumbingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AuditPlumbingError';
  }
}

/** Where the audit files live below a root ("/" on a real endpoint, a temp dir in tests). */
export function auditPaths(root: string) {
  const etc = (...p: string[]) => join(root, 'etc', ...p);
  const legacyPlugins = etc('audisp', 'plugins.d');
  return {
    auditdConf: etc('audit', 'auditd.conf'),
    audispdConf: etc('audisp', 'audispd.conf'),
    rules: etc('audit', 'audit.rules'),
    // auditd ≥ 3 reads plugins from /etc/audit/plugins.d; older ones only from /etc/audisp/plugins.d.
    plugin:
      !existsSync(etc('audit', 'plugins.d')) && existsSync(legacyPlugins)
        ? join(legacyPlugins, 'trace.conf')
        : etc('audit', 'plugins.d', 'trace.conf'),
    binaries: ['sbin', 'usr/sbin', 'usr/bin', 'bin'].flatMap((d) => [join(root, d, 'auditd'), join(root, d, 'auditctl')]),
    etcAudit: etc('audit'),
  };
}

/** SPEC 2.10.1: auditd is present when its binary or its configuration exists under root. */
export function auditdPresent(root: string): boolean {
  const p = auditPaths(root);
  return p.binaries.some((b) => existsSync(b)) || existsSync(p.auditdConf);
}

export interface FileChange {
  readonly path: string;
  readonly before: string | null;
  /** null: the file is removed. */
  readonly after: string | null;
  /** Back up `before` to `<path>.pretrace` first (once: an existing backup is never replaced). */
  readonly backup: boolean;
  /** Restore from `<path>.pretrace` instead of writing `after` (uninstall). */
  readonly restore?: boolean;
}

export interface AuditPlan {
  readonly changes: readonly FileChange[];
  readonly notes: readonly string[];
  /** Why auditd must be restarted (or the host rebooted) for the change to take effect. */
  readonly restartNeeded?: string;
}

export interface InstallOptions {
  readonly root: string;
  /** Recorder executable audispd starts (SPEC 2.8 plugin `path`). */
  readonly recorderPath: string;
  /** Directory holding recorder.json, passed to the plugin. */
  readonly configDir: string;
  /** SPEC 2.5 rawLogging after the SPEC 2.7 merge; undefined leaves auditd's logging alone. */
  readonly rawLogging: boolean | undefined;
  /** Node's process.arch naming, for the rule set. */
  readonly arch?: string;
  /** SPEC 2.5 onlyWatchFileRoot: where the file rules look (`planFileWatch`); default the whole file system. */
  readonly fileWatch?: PlannedFileWatch;
}

const read = (path: string): string | null => (existsSync(path) ? readFileSync(path, 'utf8') : null);

function change(path: string, before: string | null, after: string | null): FileChange | undefined {
  return before === after ? undefined : { path, before, after, backup: before !== null };
}

export function planInstall(opts: InstallOptions): AuditPlan {
  const p = auditPaths(opts.root);
  const notes: string[] = [];
  const problems: string[] = [];
  const auditdText = read(p.auditdConf);
  if (auditdText === null) {
    throw new AuditPlumbingError(
      `auditd is not installed: ${p.auditdConf} does not exist (install the auditd package first; SPEC 2.9)`,
    );
  }

  // Plugin config (SPEC 2.8): audispd runs `path args` with the events on stdin as text.
  const args = `plugin ${opts.configDir}`;
  const pluginBefore = read(p.plugin);
  const plugin = ConfFile.parse(pluginBefore ?? '# endpoint recorder as an audispd plugin (SPEC 2.2)\n')
    .set('active', 'yes')
    .set('direction', 'out')
    .set('path', opts.recorderPath)
    .set('type', 'always')
    .set('args', args)
    .set('format', 'string');
  problems.push(...validateSettings(p.plugin, plugin.entries(), PLUGIN_SETTINGS));

  // auditd.conf: raw logging on/off (SPEC 2.5 rawLogging), and q_depth when there is no audispd.conf.
  const auditd = ConfFile.parse(auditdText);
  notes.push(...validateSettings(p.auditdConf, auditd.entries(), AUDITD_SETTINGS).map((m) => `left as is: ${m}`));
  if (opts.rawLogging === true) {
    auditd.set('write_logs', 'yes');
    if (auditd.get('log_format')?.toUpperCase() === 'NOLOG') auditd.set('log_format', 'RAW');
  } else if (opts.rawLogging === false) {
    auditd.set('write_logs', 'no'); // auditd ≥ 2.5.2; older versions read log_format = NOLOG
  }
  const audispdText = read(p.audispdConf);
  let audispdAfter = audispdText;
  if (audispdText !== null) {
    const audispd = ConfFile.parse(audispdText).set('q_depth', String(RECORDER_Q_DEPTH));
    notes.push(...validateSettings(p.audispdConf, audispd.entries(), DISPATCHER_SETTINGS).filter((m) => !m.includes('"q_depth"')).map((m) => `left as is: ${m}`));
    audispdAfter = audispd.toString();
  } else {
    // auditd ≥ 3 merged audispd into auditd; its q_depth lives in auditd.conf.
    auditd.set('q_depth', String(RECORDER_Q_DEPTH));
    notes.push(`${p.audispdConf} does not exist (auditd ≥ 3): q_depth set in ${p.auditdConf}`);
  }
  problems.push(...validateSettings(p.auditdConf, auditd.entries().filter(([k]) => ['write_logs', 'log_format', 'q_depth'].includes(k)), AUDITD_SETTINGS));
  if (problems.length) throw new AuditPlumbingError(problems.join('\n'));

  const rulesBefore = read(p.rules);
  const rules = withRecorderRules(rulesBefore ?? '', opts.arch ?? process.arch, opts.fileWatch?.scope);
  notes.push(...(opts.fileWatch?.notes ?? []));
  const changes = [
    change(p.plugin, pluginBefore, plugin.toString()),
    change(p.auditdConf, auditdText, auditd.toString()),
    change(p.audispdConf, audispdText, audispdAfter),
    change(p.rules, rulesBefore, rules.text),
  ].filter((c): c is FileChange => c !== undefined);
  const restartNeeded = rules.immutable
    ? `${p.rules} has the immutable flag "-e 2": the recorder's rules were inserted before it and take effect after a reboot`
    : changes.length
      ? 'restart auditd (e.g. `service auditd restart`) to load the changed rules and plugin'
      : undefined;
  return { changes, notes, restartNeeded };
}

/** Removes the recorder's rule block (the kill switch and `--stop` use this). */
export function planRemoveRules(root: string): AuditPlan {
  const p = auditPaths(root);
  const before = read(p.rules);
  if (before === null) return { changes: [], notes: [] };
  const c = change(p.rules, before, withoutRecorderRules(before));
  return { changes: c ? [c] : [], notes: [], restartNeeded: c ? 'reload the audit rules (e.g. `augenrules --load` or restart auditd)' : undefined };
}

/** Puts back every `*.pretrace` backup and removes the plugin config the recorder created. */
export function planUninstall(root: string): AuditPlan {
  const p = auditPaths(root);
  const changes: FileChange[] = [];
  for (const path of [p.auditdConf, p.audispdConf, p.rules]) {
    const backup = read(path + BACKUP_SUFFIX);
    if (backup !== null) changes.push({ path, before: read(path), after: backup, backup: false, restore: true });
  }
  const plugin = read(p.plugin);
  if (plugin !== null) {
    const backup = read(p.plugin + BACKUP_SUFFIX);
    changes.push({ path: p.plugin, before: plugin, after: backup, backup: false, restore: backup !== null });
  }
  return { changes, notes: [], restartNeeded: changes.length ? 'restart auditd to apply the restored configuration' : undefined };
}

/** What `--dry-run` prints: a unified diff per file. */
export function describePlan(plan: AuditPlan): string {
  return plan.changes.map((c) => unifiedDiff(c.path, c.before, c.after)).join('');
}

/** Applies a plan: backups first, then each file atomically. */
export function applyPlan(plan: AuditPlan): void {
  for (const c of plan.changes) {
    const backup = c.path + BACKUP_SUFFIX;
    if (c.backup && c.before !== null && !existsSync(backup)) {
      writeFileAtomic(backup, c.before, statSync(c.path).mode & 0o7777);
    }
  }
  for (const c of plan.changes) {
    if (c.restore) renameSync(c.path + BACKUP_SUFFIX, c.path);
    else if (c.after === null) unlinkSync(c.path);
    else {
      mkdirSync(dirname(c.path), { recursive: true });
      writeFileAtomic(c.path, c.after);
    }
  }
}
