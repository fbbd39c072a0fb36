// The recorder.json parameters of SPEC 2.5 and 2.6 with their types, defaults and ranges (pure).
import { InvalidArgument } from '../errors';

type Check =
  | { type: 'int'; min?: number; max?: number; default?: number }
  | { type: 'number'; min?: number; max?: number; exclusiveMin?: boolean; default?: number }
  | { type: 'bool'; default?: boolean }
  | { type: 'flag'; default?: 0 | 1 } // registry-style 0/1 (true/false accepted)
  | { type: 'enum'; values: readonly string[]; default?: string }
  | { type: 'size'; default?: string } // bytes as a number, or "10 MB"
  | { type: 'path'; default?: string }
  | { type: 'any' };

/** Levels of the recorder's own log (SPEC 2.5 logLevel, default Information). */
export const RECORDER_LOG_LEVELS = ['Trace', 'Debug', 'Information', 'Warning', 'Error', 'Critical'] as const;

export const RECORDER_PARAMETERS: Readonly<Record<string, Check>> = {
  // SPEC 2.5
  cpuKillAfterNumViolations: { type: 'int', min: 1, max: 1_000_000, default: 1 },
  cpuKillEnabled: { type: 'bool', default: true },
  cpuThreshold: { type: 'number', min: 0, max: 1, exclusiveMin: true, default: 0.25 },
  cpuThresholdMinutes: { type: 'int', min: 1, max: 1440, default: 1 },
  dbLocation: { type: 'path', default: 'monitor.db' },
  filterLocation: { type: 'path', default: 'filters.json' },
  logLevel: { type: 'enum', values: RECORDER_LOG_LEVELS, default: 'Information' },
  logMaxSize: { type: 'size', default: '10 MB' },
  logRotations: { type: 'int', min: 0, max: 100, default: 3 },
  maxSizeMB: { type: 'int', min: 1, max: 1_048_576, default: 1024 },
  rawLogging: { type: 'bool', default: true },
  throttle: { type: 'bool', default: false },
  onlyWatchFileRoot: { type: 'bool', default: true },
  // SPEC 2.6
  MonitorRegistry: { type: 'flag', default: 1 },
  MonitorNetwork: { type: 'flag', default: 1 },
  MonitorFiles: { type: 'flag', default: 1 },
  MonitorDNS: { type: 'flag', default: 1 },
  MonitorImageLoad: { type: 'flag', default: 0 },
  MonitorDays: { type: 'int', min: 0, max: 65536, default: 90 },
  MaxStorageSizeMB: { type: 'int', min: 0, default: 1024 },
  MaxRuntimeStorageSizeMB: { type: 'int', min: 0 },
  AbsoluteMaxStorageSizeMB: { type: 'int', min: 0 },
  CleanPercentOverLimit: { type: 'int', min: 0, max: 100, default: 10 },
  DatabaseCleanupIntervalMinutes: { type: 'int', min: 1, max: 2880, default: 30 },
  MaxCleanTries: { type: 'int', min: 0, max: 10, default: 3 },
  DatabaseArchiveLimit: { type: 'int', min: 0, max: 100, default: 0 },
  BatchWriteDelayMS: { type: 'int', min: 0, max: 5000, default: 1000 },
  PendingEventCap: { type: 'int', min: 0, default: 5000 },
  NewEventLimit: { type: 'int', min: 0, max: 100_000, default: 2000 },
  ProcessExpirationSeconds: { type: 'int', min: 0, default: 180 },
  EventQueueExpirationSeconds: { type: 'int', min: 1, default: 120 },
  MappingLowerToleranceMS: { type: 'int', min: 0, default: 200 },
  MappingUpperToleranceMS: { type: 'int', min: 0, default: 200 },
  DatabaseErrorWaitMinutes: { type: 'int', min: 0, max: 60, default: 5 },
  ResetIntervalMinutes: { type: 'int', min: 0, max: 10080, default: 240 },
  DisableTrace: { type: 'flag', default: 0 },
  DisableSignals: { type: 'flag', default: 0 },
  DisableSignalsTrie: { type: 'flag', default: 0 },
  RecordSignalDefinitions: { type: 'flag', default: 1 },
  RecordSignalMatches: { type: 'int', min: 0, default: 5 },
  MaxFileHandlesPerProcess: { type: 'int', min: 0, default: 500 },
  ConfirmFileWrites: { type: 'flag', default: 0 },
  FileExtraFlagsFilter: { type: 'int', min: 0, default: 0 },
  SQLiteChunkSizeMB: { type: 'int', min: 0, default: 100 },
  LogVerbosityLevel: { type: 'int', min: 0 },
  LogFileSize: { type: 'int', min: 0 },
  LogFileSizeInBytes: { type: 'int', min: 0 },
  LogFileSizeInMessages: { type: 'int', min: 0 },
  LogBufferSizeInMessages: { type: 'int', min: 0 },
  ProcessStateFile: { type: 'path' },
  ImageHashStateFile: { type: 'path' },
  SignalsJSONFile: { type: 'path' },
  SignalsBinFile: { type: 'path' },
  WatchlistFile: { type: 'path' },
  FilterDefinitionFile: { type: 'path' },
  MonitorDatabasePath: { type: 'path' },
  // Windows-only knobs (SPEC 2.6): kept and passed through, not interpreted elsewhere.
  DropRegCreateKey: { type: 'flag' },
  DNSEventIDList: { type: 'any' },
  ForceSysmon: { type: 'flag' },
  ForceRecorderDriver: { type: 'flag' },
  UseAuditCommandLine: { type: 'flag' },
  WMICTimeout: { type: 'int', min: 0 },
  DisableSetDebug: { type: 'flag' },
};

/** Windows-only families of knobs accepted by prefix (SPEC 2.6: ETW*, Sysmon*). */
const PASS_THROUGH_PREFIXES = ['ETW', 'Sysmon'];

/** The fields a module's `<module>_recorder.json` may set: those SPEC 2.7 knows how to merge. */
export const MERGED_FIELDS = ['maxSizeMB', 'logRotations', 'logMaxSize', 'rawLogging', 'cpuThreshold', 'cpuKillEnabled'] as const;

export type RecorderJson = Record<string, unknown>;

/** Parses "10 MB" / "512KB" / 1048576 to bytes; undefined when the text is not a size. */
export function sizeInBytes(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isInteger(value) && value > 0 ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(B|KB|MB|GB)?\s*$/i.exec(value);
  if (!m) return undefined;
  const unit = { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3 }[(m[2] ?? 'B').toUpperCase() as 'B'];
  const bytes = Math.round(Number(m[1]) * unit);
  return bytes > 0 ? bytes : undefined;
}

/** One problem in a recorder configuration file: JSON path, rule broken, value found. */
export interface ConfigIssue {
  jsonPath: string;
  rule: string;
  value?: unknown;
}

/**
 * Every problem of one recorder.json document (text). Module files (`<module>_recorder.json`)
 * may set only the fields SPEC 2.7 merges.
 */
export function recorderJsonIssues(text: string, isModuleFile: boolean): ConfigIssue[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    return [{ jsonPath: '$', rule: `must be valid JSON (${(err as Error).message})` }];
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    return [{ jsonPath: '$', rule: 'must be a JSON object of recorder parameters' }];
  }
  const doc = parsed as RecorderJson;
  const issues: ConfigIssue[] = [];
  for (const [key, value] of Object.entries(doc)) {
    const jsonPath = `$.${key}`;
    const check = RECORDER_PARAMETERS[key];
    if (!check) {
      if (!PASS_THROUGH_PREFIXES.some((p) => key.startsWith(p))) {
        issues.push({ jsonPath, rule: 'is not a recorder parameter of SPEC 2.5/2.6', value });
      }
      continue;
    }
    if (isModuleFile && !(MERGED_FIELDS as readonly string[]).includes(key)) {
      issues.push({ jsonPath, rule: `a module's recorder file may set only the merged fields (${MERGED_FIELDS.join(', ')}; SPEC 2.7)`, value });
      continue;
    }
    const rule = brokenRule(check, value);
    if (rule) issues.push({ jsonPath, rule, value });
  }
  const max = doc.MaxStorageSizeMB;
  const absolute = doc.AbsoluteMaxStorageSizeMB;
  if (typeof max === 'number' && typeof absolute === 'number' && max > 0 && absolute < max) {
    issues.push({ jsonPath: '$.AbsoluteMaxStorageSizeMB', rule: `must be at least MaxStorageSizeMB (${max})`, value: absolute });
  }
  return issues;
}

/** Validates one recorder.json document; throws InvalidArgument for the first problem: `recorder.json $.cpuThreshold 2: …`. */
export function validateRecorderJson(file: string, text: string, isModuleFile: boolean): RecorderJson {
  const [first] = recorderJsonIssues(text, isModuleFile);
  if (first) {
    const field = first.jsonPath === '$' ? file : `${file} ${first.jsonPath}`;
    throw 'value' in first ? new InvalidArgument(field, first.rule, first.value) : new InvalidArgument(field, first.rule);
  }
  return JSON.parse(text) as RecorderJson;
}

function brokenRule(check: Check, value: unknown): string | undefined {
  switch (check.type) {
    case 'int':
    case 'number': {
      const ok =
        typeof value === 'number' &&
        Number.isFinite(value) &&
        (check.type === 'number' || Number.isInteger(value)) &&
        (check.min === undefined || ('exclusiveMin' in check && check.exclusiveMin ? value > check.min : value >= check.min)) &&
        (check.max === undefined || value <= check.max);
      return ok ? undefined : rangeText(check);
    }
    case 'bool':
      return typeof value === 'boolean' ? undefined : 'must be true or false';
    case 'flag':
      return value === 0 || value === 1 || typeof value === 'boolean' ? undefined : 'must be 0 or 1';
    case 'enum':
      return typeof value === 'string' && check.values.includes(value) ? undefined : `must be one of ${check.values.join(', ')}`;
    case 'size':
      return sizeInBytes(value) !== undefined ? undefined : 'must be a size: a number of bytes or text like "10 MB" (B, KB, MB, GB)';
    case 'path':
      return typeof value === 'string' && value.trim() !== '' && !value.includes('\0') ? undefined : 'must be a non-empty file name or path';
    case 'any':
      return undefined;
  }
}

function rangeText(check: { type: 'int' | 'number'; min?: number; max?: number; exclusiveMin?: boolean }): string {
  const what = check.type === 'int' ? 'a whole number' : 'a number';
  if (check.min !== undefined && check.max !== undefined) {
    return check.exclusiveMin ? `must be ${what} above ${check.min} and at most ${check.max}` : `must be ${what} from ${check.min} to ${check.max}`;
  }
  if (check.min !== undefined) return `must be ${what} of at least ${check.min}`;
  return `must be ${what}`;
}

/** Every parameter with a default, as a base recorder.json without overrides would read. */
export function recorderDefaults(): RecorderJson {
  const out: RecorderJson = {};
  for (const [key, check] of Object.entries(RECORDER_PARAMETERS)) {
    if ('default' in check && check.default !== undefined) out[key] = check.default;
  }
  return out;
}
