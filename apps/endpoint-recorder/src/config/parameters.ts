// Every recorder.json parameter in one table: name, kind, range, default and the SPEC line it comes from.
import { z } from 'zod';

/** Log levels the recorder accepts (SPEC 2.5 "Information" style and pino's own names). */
export const LOG_LEVELS = {
  trace: 'trace',
  verbose: 'trace',
  debug: 'debug',
  information: 'info',
  info: 'info',
  warning: 'warn',
  warn: 'warn',
  error: 'error',
  critical: 'fatal',
  fatal: 'fatal',
} as const;
export type PinoLevel = (typeof LOG_LEVELS)[keyof typeof LOG_LEVELS];

type Kind =
  | { kind: 'int'; min: number; max: number }
  | { kind: 'number'; min: number; max: number; minExclusive?: boolean }
  | { kind: 'flag' } // true/false, or 0/1 as in the Windows registry (SPEC 2.6)
  | { kind: 'path' }
  | { kind: 'size'; min: number; max: number } // bytes, or "10 MB" / "512KB"
  | { kind: 'level' };

export interface ParameterDef<T = unknown> {
  readonly rule: Kind;
  /** Default when no file sets it; `undefined` means "unset" (SPEC 2.7 rawLogging). */
  readonly default: T | undefined;
  readonly spec: string;
}

const MAX_INT = Number.MAX_SAFE_INTEGER;
const MB = 1024 * 1024;

/** SPEC 2.5 (Linux/macOS recorder.json) and the SPEC 2.6 parameters that apply on Linux. */
export const PARAMETERS = {
  // CPU kill switch — SPEC 2.5
  cpuKillAfterNumViolations: { rule: { kind: 'int', min: 1, max: 1000 }, default: 1, spec: 'SPEC 2.5' },
  cpuKillEnabled: { rule: { kind: 'flag' }, default: true, spec: 'SPEC 2.5' },
  cpuThreshold: { rule: { kind: 'number', min: 0, max: 1, minExclusive: true }, default: 0.25, spec: 'SPEC 2.5' },
  cpuThresholdMinutes: { rule: { kind: 'int', min: 1, max: 1440 }, default: 1, spec: 'SPEC 2.5' },
  // Locations, relative to the config file's directory — SPEC 2.5
  dbLocation: { rule: { kind: 'path' }, default: 'monitor.db', spec: 'SPEC 2.5' },
  filterLocation: { rule: { kind: 'path' }, default: 'filters.json', spec: 'SPEC 2.5' },
  // Logging — SPEC 2.5
  logLevel: { rule: { kind: 'level' }, default: 'info', spec: 'SPEC 2.5' },
  logMaxSize: { rule: { kind: 'size', min: 64 * 1024, max: 1024 * MB }, default: 10 * MB, spec: 'SPEC 2.5' },
  logRotations: { rule: { kind: 'int', min: 0, max: 100 }, default: 3, spec: 'SPEC 2.5' },
  // Database size — SPEC 2.5 maxSizeMB (= SPEC 2.6 MaxStorageSizeMB; 0 = unlimited)
  maxSizeMB: { rule: { kind: 'int', min: 0, max: 1024 * 1024 }, default: 1024, spec: 'SPEC 2.5' },
  rawLogging: { rule: { kind: 'flag' }, default: undefined, spec: 'SPEC 2.5, 2.7' },
  throttle: { rule: { kind: 'flag' }, default: false, spec: 'SPEC 2.5' },
  onlyWatchFileRoot: { rule: { kind: 'flag' }, default: true, spec: 'SPEC 2.5' },

  // Event families — SPEC 2.6 (registry and DNS do not exist on Linux)
  MonitorProcess: { rule: { kind: 'flag' }, default: true, spec: 'SPEC 2.1' },
  MonitorNetwork: { rule: { kind: 'flag' }, default: true, spec: 'SPEC 2.6' },
  MonitorFiles: { rule: { kind: 'flag' }, default: true, spec: 'SPEC 2.6' },
  MonitorImageLoad: { rule: { kind: 'flag' }, default: false, spec: 'SPEC 2.6' },
  MonitorSecurity: { rule: { kind: 'flag' }, default: true, spec: 'SPEC 2.2' },
  // Retention and size limits — SPEC 2.6
  MonitorDays: { rule: { kind: 'int', min: 0, max: 65536 }, default: 90, spec: 'SPEC 2.6' },
  MaxRuntimeStorageSizeMB: { rule: { kind: 'int', min: 0, max: 2 * 1024 * 1024 }, default: undefined, spec: 'SPEC 2.6 (2 × maxSizeMB)' },
  AbsoluteMaxStorageSizeMB: { rule: { kind: 'int', min: 0, max: 2 * 1024 * 1024 }, default: undefined, spec: 'SPEC 2.6 (2 × maxSizeMB)' },
  CleanPercentOverLimit: { rule: { kind: 'int', min: 0, max: 100 }, default: 10, spec: 'SPEC 2.6' },
  DatabaseCleanupIntervalMinutes: { rule: { kind: 'int', min: 1, max: 2880 }, default: 30, spec: 'SPEC 2.6' },
  MaxCleanTries: { rule: { kind: 'int', min: 0, max: 10 }, default: 3, spec: 'SPEC 2.6' },
  DatabaseArchiveLimit: { rule: { kind: 'int', min: 0, max: 100 }, default: 0, spec: 'SPEC 2.6' },
  DatabaseErrorWaitMinutes: { rule: { kind: 'int', min: 0, max: 60 }, default: 5, spec: 'SPEC 2.6' },
  SQLiteChunkSizeMB: { rule: { kind: 'int', min: 0, max: 4096 }, default: 100, spec: 'SPEC 2.6' },
  // Pipeline — SPEC 2.6
  BatchWriteDelayMS: { rule: { kind: 'int', min: 0, max: 5000 }, default: 1000, spec: 'SPEC 2.6' },
  PendingEventCap: { rule: { kind: 'int', min: 0, max: MAX_INT }, default: 5000, spec: 'SPEC 2.6' },
  NewEventLimit: { rule: { kind: 'int', min: 0, max: 100000 }, default: 2000, spec: 'SPEC 2.6' },
  ProcessExpirationSeconds: { rule: { kind: 'int', min: 0, max: MAX_INT }, default: 180, spec: 'SPEC 2.6' },
  EventQueueExpirationSeconds: { rule: { kind: 'int', min: 1, max: MAX_INT }, default: 120, spec: 'SPEC 2.6' },
  MappingLowerToleranceMS: { rule: { kind: 'int', min: 0, max: MAX_INT }, default: 200, spec: 'SPEC 2.6' },
  MappingUpperToleranceMS: { rule: { kind: 'int', min: 0, max: MAX_INT }, default: 200, spec: 'SPEC 2.6' },
  ResetIntervalMinutes: { rule: { kind: 'int', min: 0, max: 10080 }, default: 240, spec: 'SPEC 2.6' },
  MaxFileHandlesPerProcess: { rule: { kind: 'int', min: 0, max: MAX_INT }, default: 500, spec: 'SPEC 2.6' },
  ConfirmFileWrites: { rule: { kind: 'flag' }, default: false, spec: 'SPEC 2.6' },
  // State and signals — SPEC 2.6
  DisableTrace: { rule: { kind: 'flag' }, default: false, spec: 'SPEC 2.6' },
  DisableSignals: { rule: { kind: 'flag' }, default: false, spec: 'SPEC 2.6' },
  DisableSignalsTrie: { rule: { kind: 'flag' }, default: false, spec: 'SPEC 2.6' },
  RecordSignalDefinitions: { rule: { kind: 'flag' }, default: true, spec: 'SPEC 2.6' },
  RecordSignalMatches: { rule: { kind: 'int', min: 0, max: MAX_INT }, default: 5, spec: 'SPEC 2.6' },
  SignalsJSONFile: { rule: { kind: 'path' }, default: 'signals.json', spec: 'SPEC 2.6' },
  WatchlistFile: { rule: { kind: 'path' }, default: 'watchlist.json', spec: 'SPEC 2.6' },
  // Ours: per-process CPU/memory samples for process history (SPEC 1.1.3 Performance)
  processSampleIntervalSeconds: { rule: { kind: 'int', min: 0, max: 3600 }, default: 30, spec: 'SPEC 1.1.3 (0 = off)' },
} as const satisfies Record<string, ParameterDef>;

export type ParameterName = keyof typeof PARAMETERS;

/** Human wording of a parameter's rule, used in every validation error. */
export function describeRule(rule: Kind): string {
  switch (rule.kind) {
    case 'int':
      return rule.max === MAX_INT ? `must be an integer ≥ ${rule.min}` : `must be an integer from ${rule.min} to ${rule.max}`;
    case 'number':
      return `must be a number ${rule.minExclusive ? 'above' : 'from'} ${rule.min} ${rule.minExclusive ? 'up to' : 'to'} ${rule.max}`;
    case 'flag':
      return 'must be true/false (or 1/0)';
    case 'path':
      return 'must be a non-empty file path';
    case 'size':
      return `must be a size from ${formatSize(rule.min)} to ${formatSize(rule.max)} (bytes, or text like "10 MB")`;
    case 'level':
      return `must be one of ${Object.keys(LOG_LEVELS).join(', ')} (any case)`;
  }
}

export function formatSize(bytes: number): string {
  if (bytes % MB === 0) return `${bytes / MB} MB`;
  if (bytes % 1024 === 0) return `${bytes / 1024} KB`;
  return `${bytes} B`;
}

const SIZE_UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, kb: 1024, m: MB, mb: MB, g: 1024 * MB, gb: 1024 * MB };

function parseSize(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isInteger(v) ? v : undefined;
  if (typeof v !== 'string') return undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(v);
  const unit = m ? SIZE_UNITS[m[2].toLowerCase()] : undefined;
  return m && unit !== undefined ? Math.round(Number(m[1]) * unit) : undefined;
}

/** The zod schema of one parameter's value (before merging); output is the normalised type. */
export function schemaOf(rule: Kind): z.ZodType {
  switch (rule.kind) {
    case 'int':
      return z.number().int().min(rule.min).max(rule.max);
    case 'number':
      return rule.minExclusive
        ? z.number().gt(rule.min).max(rule.max)
        : z.number().min(rule.min).max(rule.max);
    case 'flag':
      return z.union([z.boolean(), z.literal(0), z.literal(1)]).transform((v) => v === true || v === 1);
    case 'path':
      return z.string().trim().min(1);
    case 'size':
      return z
        .unknown()
        .transform((v) => parseSize(v))
        .pipe(z.number().int().min(rule.min).max(rule.max));
    case 'level':
      return z
        .string()
        .transform((v) => v.toLowerCase())
        .pipe(z.enum(Object.keys(LOG_LEVELS) as [keyof typeof LOG_LEVELS]))
        .transform((v) => LOG_LEVELS[v]);
  }
}
