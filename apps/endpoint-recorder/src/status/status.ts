// `recorder --status`: running or stopped and why, db size and limit, events per family, dropped
// events, last cleanup, and whether auditd is present (SPEC 2.4, 2.10.1).
import { existsSync, readFileSync } from 'node:fs';
import type { MonitorDb } from '@dc/monitor-db';
import { auditdPresent } from '../audit-plumbing/install-audit';
import type { RecorderConfig } from '../config/load-config';
import { readCounters, type StoredCounters } from './counters';

export const AUDIT_RESTART_META_KEY = 'audit_restart_needed';

export interface StatusReport {
  readonly state: 'running' | 'stopped' | 'not running';
  /** Why it is stopped (DisableTrace reason), when it is. */
  readonly reason: string | null;
  readonly stoppedSince: number | null;
  readonly pid: number | null;
  readonly database: { readonly path: string; readonly sizeBytes: number; readonly limitMB: number; readonly runtimeLimitMB: number };
  readonly eventsByFamily: Record<string, number>;
  readonly counters: StoredCounters;
  /** The parameters the counters above are measured against. */
  readonly limits: { readonly maxFileHandlesPerProcess: number; readonly confirmFileWrites: boolean };
  readonly lastCleanup: number | null;
  readonly auditd: { readonly present: boolean; readonly restartNeeded: string | null };
  readonly configFiles: readonly string[];
  /** SPEC 2.10.2: PRAGMA quick_check and schema checks, when asked for (`--check`). */
  readonly integrity?: { readonly ok: boolean; readonly problems: readonly string[] };
}

/** The pid in the pid file if that process is alive. */
export function runningPid(pidFile: string): number | null {
  if (!existsSync(pidFile)) return null;
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 0) return null;
  try {
    process.kill(pid, 0);
    return pid;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM' ? pid : null;
  }
}

export function gatherStatus(config: RecorderConfig, db: MonitorDb, auditRoot: string, opts: { integrity?: boolean } = {}): StatusReport {
  const disabled = db.disableTraceStatus();
  const pid = runningPid(config.paths.pid);
  const byConfig = config.DisableTrace ? 'DisableTrace is set in recorder.json' : null;
  const reason = byConfig ?? (disabled.disabled ? disabled.reason : null);
  const counts = db.countsByFamily();
  const lastCleanup = db.getMeta('last_cleanup');
  return {
    state: reason ? 'stopped' : pid ? 'running' : 'not running',
    reason,
    stoppedSince: disabled.disabled ? disabled.since : null,
    pid,
    database: {
      path: db.path,
      sizeBytes: db.sizeBytes(),
      limitMB: config.maxSizeMB,
      runtimeLimitMB: config.MaxRuntimeStorageSizeMB,
    },
    eventsByFamily: Object.fromEntries(['process', 'file', 'network', 'security'].map((f) => [f, counts[f as keyof typeof counts]])),
    counters: readCounters(db),
    limits: { maxFileHandlesPerProcess: config.MaxFileHandlesPerProcess, confirmFileWrites: config.ConfirmFileWrites },
    lastCleanup: lastCleanup ? Number(lastCleanup) : null,
    auditd: { present: auditdPresent(auditRoot), restartNeeded: db.getMeta(AUDIT_RESTART_META_KEY) ?? null },
    configFiles: config.files,
    ...(opts.integrity ? { integrity: pickIntegrity(db) } : {}),
  };
}

function pickIntegrity(db: MonitorDb): { ok: boolean; problems: string[] } {
  const r = db.integrityCheck();
  return { ok: r.ok, problems: r.problems };
}

const iso = (ms: number | null) => (ms === null ? 'never' : new Date(ms).toISOString());
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

export function formatStatus(s: StatusReport): string {
  const lines = [
    `recorder: ${s.state}${s.pid && s.state !== 'stopped' ? ` (pid ${s.pid})` : ''}`,
    ...(s.state === 'stopped' ? [`  stopped because: ${s.reason}${s.stoppedSince ? ` (since ${iso(s.stoppedSince)})` : ''}`, '  start it again by hand: recorder --start'] : []),
    `database: ${s.database.path}`,
    `  size ${mb(s.database.sizeBytes)} of ${s.database.limitMB === 0 ? 'unlimited' : `${s.database.limitMB} MB`} (runtime limit ${s.database.runtimeLimitMB} MB)`,
    `events: ${Object.entries(s.eventsByFamily).map(([f, n]) => `${f} ${n}`).join(', ')}`,
    `dropped events: ${s.counters.droppedTotal}${s.counters.droppedTotal ? ` (${Object.entries(s.counters.dropped).map(([f, n]) => `${f} ${n}`).join(', ')})` : ''}`,
    `filtered events: ${Object.values(s.counters.filtered).reduce((a, b) => a + b, 0)}, malformed lines: ${s.counters.malformedLines}`,
    `file handles: ${s.counters.pathsFromFileHandles} fd-based events named, ${s.counters.fileHandlesEvicted} evicted (MaxFileHandlesPerProcess ${s.limits.maxFileHandlesPerProcess})`,
    `file writes: ${s.limits.confirmFileWrites ? `confirmed by mtime (ConfirmFileWrites), ${s.counters.unconfirmedWritesDropped} unconfirmed dropped, ${s.counters.writesToMissingFiles} kept with the file gone` : 'not confirmed (ConfirmFileWrites 0)'}`,
    `last cleanup: ${iso(s.lastCleanup)}`,
    `auditd: ${s.auditd.present ? 'present' : 'NOT present — this endpoint records nothing; install auditd (SPEC 2.10.1)'}`,
    ...(s.auditd.restartNeeded ? [`  restart needed: ${s.auditd.restartNeeded}`] : []),
    ...(s.integrity
      ? [s.integrity.ok ? 'integrity: ok' : `integrity: PROBLEMS — recreate the database (recorder --recreate-db): ${s.integrity.problems.join('; ')}`]
      : []),
    `configuration: ${s.configFiles.length ? s.configFiles.join(', ') : 'defaults (no recorder.json)'}`,
  ];
  return `${lines.join('\n')}\n`;
}
