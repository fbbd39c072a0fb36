// The recorder's commands: replay, run (plugin / follow), --start, --stop, --status,
// --recreate-db, install-audit and uninstall-audit. Each returns an exit code; main.ts parses argv.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, unlinkSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { serializeSignalDefinitions } from '@dc/filters';
import { MonitorDbCorrupt, openMonitorDb, recreateMonitorDb, type MonitorDb } from '@dc/monitor-db';
import { writeFileAtomic } from '../audit-plumbing/atomic-write';
import { planFileWatch } from '../audit-plumbing/file-watch-scope';
import { applyPlan, auditPaths, describePlan, planInstall, planRemoveRules, planUninstall, type AuditPlan } from '../audit-plumbing/install-audit';
import { RULE_KEYS, RULES_BEGIN, withRecorderRules } from '../audit-plumbing/recorder-rules';
import { loadConfig, type RecorderConfig } from '../config/load-config';
import { processCpuSampler } from '../kill-switch/kill-switch';
import { createRecorderLog, type RecorderLog } from '../logging/recorder-log';
import { loadFilters } from '../pipeline/load-filters';
import type { PipelineStats } from '../pipeline/pipeline';
import { Recorder } from '../recording/recorder';
import { ProcSampler } from '../sampling/proc-sampler';
import { followFile } from '../sources/follow-file';
import { replayFile } from '../sources/replay-file';
import { stdinLines } from '../sources/stdin-plugin';
import { AUDIT_RESTART_META_KEY, formatStatus, gatherStatus, runningPid } from '../status/status';

export interface Io {
  out(text: string): void;
  err(text: string): void;
}

export const stdio: Io = { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) };

interface Common {
  readonly config: string;
  readonly json?: boolean;
  /** Root of the audit files (SPEC 2.3); "/" on an endpoint. */
  readonly auditRoot?: string;
}

function openLog(config: RecorderConfig): RecorderLog {
  const rlog = createRecorderLog({ path: config.paths.log, maxSize: config.logMaxSize, rotations: config.logRotations, level: config.logLevel });
  for (const w of config.warnings) rlog.log.warn({ warning: w }, 'configuration warning');
  return rlog;
}

function openDb(config: RecorderConfig, rlog?: RecorderLog): MonitorDb {
  return openMonitorDb({ path: config.paths.db, ...(rlog ? { log: rlog.log } : {}) });
}

const total = (bag: Record<string, number>) => Object.values(bag).reduce((a, b) => a + b, 0);

/** `recorder replay FILE`: ingests a log into monitor.db and prints what it did. */
export async function replayCommand(file: string, opts: Common & { hashExe?: boolean }, io: Io = stdio): Promise<number> {
  if (!existsSync(file)) {
    io.err(`replay: file ${JSON.stringify(file)} does not exist\n`);
    return 1;
  }
  const config = loadConfig(opts.config);
  const rlog = openLog(config);
  const db = openDb(config, rlog);
  try {
    const loaded = loadFilters(config);
    if (config.RecordSignalDefinitions && loaded.signalsDocument) {
      db.recordSignalDefinitions(serializeSignalDefinitions(loaded.signalsDocument).map((d) => ({ name: d.name, severity: d.severity, definition: JSON.parse(d.json) })));
    }
    const recorder = new Recorder({
      config,
      db,
      log: rlog.log,
      clock: Date.now,
      cpu: processCpuSampler,
      processors: availableParallelism(),
      sampler: null,
      filters: loaded.filters,
      ...(loaded.signals ? { signals: loaded.signals } : {}),
      // A replayed log names another machine's binaries: hashing this machine's files would lie.
      hashExecutables: opts.hashExe === true,
      // Replaying runs flat out by design; the kill switch guards the live recorder only.
      killSwitch: false,
      retention: false,
    });
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await recorder.run(replayFile(file));
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const report = replayReport(file, recorder.pipeline.stats(), seconds, (cpu.user + cpu.system) / 1000, db);
    rlog.log.info(report, 'replay finished');
    io.out(opts.json ? `${JSON.stringify(report)}\n` : formatReplay(report));
    return 0;
  } finally {
    db.close();
    rlog.close();
  }
}

export interface ReplayReport {
  file: string;
  seconds: number;
  cpuMs: number;
  lines: number;
  records: number;
  auditEvents: number;
  eventsPerSecond: number;
  recordsPerSecond: number;
  /** Events written, per family. */
  events: Record<string, number>;
  filtered: Record<string, number>;
  dropped: number;
  malformed: number;
  otherEvents: number;
  skipped: Record<string, number>;
  signalMatches: number;
  database: { path: string; sizeBytes: number };
}

function replayReport(file: string, s: PipelineStats, seconds: number, cpuMs: number, db: MonitorDb): ReplayReport {
  const pick = (k: 'recorded' | 'filtered') => Object.fromEntries(Object.entries(s.families).map(([f, c]) => [f, c[k]]));
  return {
    file,
    seconds: Number(seconds.toFixed(3)),
    cpuMs: Math.round(cpuMs),
    lines: s.audit.lines,
    records: s.audit.records,
    auditEvents: s.audit.events,
    eventsPerSecond: Math.round(s.audit.events / Math.max(seconds, 1e-6)),
    recordsPerSecond: Math.round(s.audit.records / Math.max(seconds, 1e-6)),
    events: pick('recorded'),
    filtered: pick('filtered'),
    dropped: s.dropped,
    malformed: s.audit.malformed,
    otherEvents: s.otherEvents,
    skipped: { ...s.skippedByReason },
    signalMatches: s.signalMatches,
    database: { path: db.path, sizeBytes: db.sizeBytes() },
  };
}

function formatReplay(r: ReplayReport): string {
  const fam = (bag: Record<string, number>) => Object.entries(bag).map(([f, n]) => `${f} ${n}`).join(', ');
  return [
    `replayed ${r.file}: ${r.lines} lines, ${r.records} audit records, ${r.auditEvents} audit events in ${r.seconds.toFixed(3)} s (${r.eventsPerSecond} events/s, ${r.recordsPerSecond} records/s)`,
    `events written: ${fam(r.events)} (total ${total(r.events)})`,
    `filtered: ${total(r.filtered)}${total(r.filtered) ? ` (${fam(r.filtered)})` : ''}`,
    `dropped (PendingEventCap): ${r.dropped}`,
    `malformed lines: ${r.malformed}`,
    `not recorded: ${r.otherEvents} events of other kinds${Object.keys(r.skipped).length ? `, ${fam(r.skipped)}` : ''}`,
    ...(r.signalMatches ? [`signal matches: ${r.signalMatches}`] : []),
    `monitor.db: ${r.database.path} (${(r.database.sizeBytes / 1024).toFixed(0)} KB)`,
    '',
  ].join('\n');
}

/** Removes the recorder's rules from audit.rules and, on a live system, from the kernel. */
export function auditRuleRemover(auditRoot: string, log: RecorderLog['log']): () => string {
  return () => {
    const plan = planRemoveRules(auditRoot);
    applyPlan(plan);
    const done = [plan.changes.length ? `removed from ${auditPaths(auditRoot).rules}` : 'no rules in audit.rules'];
    const auditctl = auditPaths(auditRoot).binaries.find((b) => b.endsWith('auditctl') && existsSync(b));
    if (auditRoot === '/' && auditctl && process.getuid?.() === 0) {
      for (const key of RULE_KEYS) {
        const r = spawnSync(auditctl, ['-D', '-k', key], { encoding: 'utf8', timeout: 10_000 });
        if (r.status !== 0) log.warn({ key, stderr: r.stderr }, 'auditctl could not delete loaded rules');
      }
      done.push('deleted from the kernel with auditctl -D -k');
    }
    return done.join('; ');
  };
}

/** `recorder run` / `recorder plugin DIR`: records until input ends or a signal arrives. */
export async function runCommand(opts: Common & { follow?: string; fromStart?: boolean }, io: Io = stdio): Promise<number> {
  let config = loadConfig(opts.config);
  const rlog = openLog(config);
  const log = rlog.log;
  const auditRoot = opts.auditRoot ?? '/';
  const abort = new AbortController();
  const onStop = (signal: string) => {
    log.info({ signal }, 'recorder shutting down');
    abort.abort();
  };
  const onHup = () => {
    try {
      config = loadConfig(opts.config);
      rlog.setLevel(config.logLevel);
      if (rlog.file) {
        rlog.file.maxSize = config.logMaxSize;
        rlog.file.rotations = config.logRotations;
      }
      log.info({ logLevel: config.logLevel }, 'configuration reloaded (log level and rotation apply now; the rest at the next start)');
    } catch (err) {
      log.error({ err: (err as Error).message }, 'configuration reload failed; keeping the running configuration');
    }
  };
  process.on('SIGTERM', onStop).on('SIGINT', onStop).on('SIGHUP', onHup);
  writeFileAtomic(config.paths.pid, `${process.pid}\n`, 0o644);
  let db: MonitorDb | undefined;
  try {
    db = await openDbWithRetry(config, rlog, abort.signal);
    if (!db) return 0; // stopped while waiting
    const loaded = loadFilters(config);
    if (config.RecordSignalDefinitions && loaded.signalsDocument) {
      db.recordSignalDefinitions(serializeSignalDefinitions(loaded.signalsDocument).map((d) => ({ name: d.name, severity: d.severity, definition: JSON.parse(d.json) })));
    }
    const recorder = new Recorder({
      config,
      db,
      log,
      clock: Date.now,
      cpu: processCpuSampler,
      processors: availableParallelism(),
      sampler: new ProcSampler(),
      filters: loaded.filters,
      ...(loaded.signals ? { signals: loaded.signals } : {}),
      hashExecutables: true,
      killSwitch: true,
      retention: true,
      removeAuditRules: auditRuleRemover(auditRoot, log),
    });
    const source = opts.follow ? followFile(opts.follow, { fromStart: opts.fromStart === true, signal: abort.signal }) : stdinLines();
    log.info({ source: opts.follow ?? 'stdin', config: config.files, filters: loaded.files, db: config.paths.db }, 'recorder started');
    const end = await recorder.run(source, { signal: abort.signal });
    log.info({ end, stats: recorder.pipeline.stats() }, 'recorder stopped');
    if (end.kind === 'disabled') {
      io.err(`recorder disabled itself: ${end.reason}\nit stays stopped until \`recorder --start\`\n`);
      return 3;
    }
    return 0;
  } finally {
    process.off('SIGTERM', onStop).off('SIGINT', onStop).off('SIGHUP', onHup);
    try {
      if (readFileSync(config.paths.pid, 'utf8').trim() === String(process.pid)) unlinkSync(config.paths.pid);
    } catch {
      // already gone
    }
    db?.close();
    rlog.close();
    // audispd keeps our stdin open; a stop by signal must not leave the process waiting on it.
    if (!opts.follow) process.stdin.destroy();
  }
}

/**
 * SPEC 2.6 DatabaseErrorWaitMinutes: when monitor.db cannot be opened or created, wait that long
 * and try again (audispd would otherwise restart the plugin in a tight loop). A corrupt file
 * is not retried: it needs `recorder --recreate-db`.
 */
async function openDbWithRetry(config: RecorderConfig, rlog: RecorderLog, signal: AbortSignal): Promise<MonitorDb | undefined> {
  for (;;) {
    try {
      return openDb(config, rlog);
    } catch (err) {
      if (err instanceof MonitorDbCorrupt) throw err;
      const waitMinutes = config.DatabaseErrorWaitMinutes;
      rlog.log.error({ err: (err as Error).message, db: config.paths.db, waitMinutes }, 'monitor.db could not be opened; waiting before the next try');
      if (waitMinutes === 0) throw err;
      try {
        await delay(waitMinutes * 60_000, undefined, { signal });
      } catch {
        return undefined;
      }
    }
  }
}

/** `recorder --stop`: sets DisableTrace; a running recorder notices within a second. */
export function stopCommand(opts: Common, io: Io = stdio): number {
  const config = loadConfig(opts.config);
  const db = openDb(config);
  try {
    db.setDisableTrace('stopped by the operator (recorder --stop)');
    io.out(opts.json ? `${JSON.stringify({ state: 'stopped' })}\n` : 'recorder stopped (DisableTrace set); start it with `recorder --start`\n');
    return 0;
  } finally {
    db.close();
  }
}

/**
 * `recorder --start`: the operator's manual start (SPEC 2.4): clears DisableTrace and puts the
 * recorder's audit rules back if the kill switch removed them.
 */
export function startCommand(opts: Common, io: Io = stdio): number {
  const config = loadConfig(opts.config);
  const db = openDb(config);
  try {
    const before = db.disableTraceStatus();
    db.clearDisableTrace();
    const notes: string[] = [];
    const rulesPath = auditPaths(opts.auditRoot ?? '/').rules;
    // Only where install-audit ran (a backup exists) and the block is missing: the kill switch took it out.
    if (existsSync(`${rulesPath}.pretrace`) && existsSync(rulesPath)) {
      const text = readFileSync(rulesPath, 'utf8');
      if (!text.split('\n').includes(RULES_BEGIN)) {
        const next = withRecorderRules(text, process.arch, planFileWatch(config, opts.auditRoot ?? '/').scope);
        writeFileAtomic(rulesPath, next.text);
        notes.push(`audit rules restored in ${rulesPath}; reload them (augenrules --load or restart auditd)`);
        db.setMeta(AUDIT_RESTART_META_KEY, next.immutable ? 'audit.rules has -e 2: reboot to load the recorder rules' : 'reload the audit rules (augenrules --load or restart auditd)');
      }
    }
    if (config.DisableTrace) notes.push('note: recorder.json still sets DisableTrace = 1; remove it to record');
    if (runningPid(config.paths.pid) === null) {
      notes.push('the recorder process is not running: restart auditd so audispd starts the plugin again, or run `recorder run`');
    }
    const out = { state: 'started', previousReason: before.reason, notes };
    io.out(opts.json ? `${JSON.stringify(out)}\n` : `recorder started (DisableTrace cleared${before.reason ? `; it was stopped because: ${before.reason}` : ''})\n${notes.map((n) => `${n}\n`).join('')}`);
    return 0;
  } finally {
    db.close();
  }
}

/** `recorder --status` (SPEC 2.4, 2.10). */
export function statusCommand(opts: Common & { check?: boolean }, io: Io = stdio): number {
  const config = loadConfig(opts.config);
  let db: MonitorDb;
  try {
    db = openDb(config);
  } catch (err) {
    if (!(err instanceof MonitorDbCorrupt)) throw err;
    io.out(opts.json ? `${JSON.stringify({ state: 'unknown', integrity: { ok: false, problems: [err.message] } })}\n` : `database: CORRUPT — ${err.message}\nrecreate it: recorder --recreate-db\n`);
    return 1;
  }
  try {
    const report = gatherStatus(config, db, opts.auditRoot ?? '/', { integrity: opts.check === true });
    io.out(opts.json ? `${JSON.stringify(report)}\n` : formatStatus(report));
    return report.integrity && !report.integrity.ok ? 1 : 0;
  } finally {
    db.close();
  }
}

/** `recorder --recreate-db` (SPEC 2.10.2): moves a corrupt monitor.db aside and starts afresh. */
export function recreateDbCommand(opts: Common, io: Io = stdio): number {
  const config = loadConfig(opts.config);
  let movedTo: string | null;
  try {
    const db = openDb(config);
    try {
      movedTo = db.recreate('recreated by the operator (recorder --recreate-db)').movedTo;
    } finally {
      db.close();
    }
  } catch (err) {
    if (!(err instanceof MonitorDbCorrupt)) throw err;
    const r = recreateMonitorDb({ path: config.paths.db, reason: `recreated by the operator: ${err.message}` });
    r.db.close();
    movedTo = r.movedTo;
  }
  io.out(opts.json ? `${JSON.stringify({ recreated: config.paths.db, movedTo })}\n` : `monitor.db recreated at ${config.paths.db}${movedTo ? ` (old file kept as ${movedTo})` : ''}\n`);
  return 0;
}

function printPlan(plan: AuditPlan, dryRun: boolean, json: boolean | undefined, io: Io): void {
  if (json) {
    io.out(`${JSON.stringify({ dryRun, files: plan.changes.map((c) => c.path), notes: plan.notes, restartNeeded: plan.restartNeeded ?? null, diff: describePlan(plan) })}\n`);
    return;
  }
  if (dryRun) io.out(describePlan(plan) || 'no changes\n');
  else io.out(plan.changes.length ? plan.changes.map((c) => `updated ${c.path}\n`).join('') : 'no changes\n');
  for (const n of plan.notes) io.out(`note: ${n}\n`);
  if (plan.restartNeeded && plan.changes.length) io.out(`${dryRun ? 'would need' : 'needed'}: ${plan.restartNeeded}\n`);
}

/** `recorder install-audit` (SPEC 2.3): plugin, q_depth, raw logging and rules; `--dry-run` prints the diff. */
export function installAuditCommand(opts: Common & { root: string; recorderPath?: string; dryRun?: boolean }, io: Io = stdio): number {
  const config = loadConfig(opts.config);
  const recorderPath = opts.recorderPath ?? join(config.configDir, 'recorder');
  const planned = planInstall({ root: opts.root, recorderPath, configDir: config.configDir, rawLogging: config.rawLogging, fileWatch: planFileWatch(config, opts.root) });
  // audispd runs `path` itself: on a real root, say so now if it is not there.
  const plan = opts.root === '/' && !existsSync(recorderPath)
    ? { ...planned, notes: [...planned.notes, `${recorderPath} does not exist: audispd will fail to start the plugin (pass --recorder-path)`] }
    : planned;
  if (!opts.dryRun) {
    applyPlan(plan);
    const db = openDb(config);
    try {
      if (plan.changes.length && plan.restartNeeded) db.setMeta(AUDIT_RESTART_META_KEY, plan.restartNeeded);
    } finally {
      db.close();
    }
  }
  printPlan(plan, opts.dryRun === true, opts.json, io);
  return 0;
}

/** `recorder uninstall-audit`: restores the `*.pretrace` backups and removes the plugin config. */
export function uninstallAuditCommand(opts: Common & { root: string; dryRun?: boolean }, io: Io = stdio): number {
  const plan = planUninstall(opts.root);
  if (!opts.dryRun) applyPlan(plan);
  printPlan(plan, opts.dryRun === true, opts.json, io);
  return 0;
}
