// Loads recorder.json plus every <module>_recorder.json beside it and merges them (SPEC 2.7).
import { readdirSync, readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { describeRule, PARAMETERS, schemaOf, type ParameterName, type PinoLevel } from './parameters';

type ValueOfKind<K> = K extends 'int' | 'number' | 'size'
  ? number
  : K extends 'flag'
    ? boolean
    : K extends 'level'
      ? PinoLevel
      : string;

/** Validated values of every parameter, defaults filled in. */
export type ParameterValues = {
  [K in ParameterName]: ValueOfKind<(typeof PARAMETERS)[K]['rule']['kind']>;
} & { rawLogging: boolean | undefined };

export interface RecorderConfig extends ParameterValues {
  readonly configDir: string;
  /** Files merged, base first (names only). */
  readonly files: readonly string[];
  /** Unknown keys and other non-fatal remarks, one sentence each. */
  readonly warnings: readonly string[];
  /** Absolute paths resolved against configDir (SPEC 2.5 dbLocation, filterLocation…). */
  readonly paths: {
    readonly db: string;
    readonly filters: string;
    readonly watchlist: string;
    readonly signals: string;
    readonly log: string;
    readonly state: string;
    readonly pid: string;
  };
}

/** Thrown when a configuration file is unreadable, not JSON, or holds an invalid value. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(problems.join('\n'));
    this.name = 'ConfigError';
  }
}

export const BASE_CONFIG_FILE = 'recorder.json';
const MODULE_CONFIG = /^(.+)_recorder\.json$/;

type Layer = { [K in ParameterName]?: unknown };

/** Validates one file's object; pushes "file: key ... (got ...)" lines into `problems`. */
export function validateLayer(file: string, raw: unknown, problems: string[], warnings: string[]): Layer {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    problems.push(`${file}: must hold a JSON object (got ${Array.isArray(raw) ? 'an array' : JSON.stringify(raw)})`);
    return {};
  }
  const out: Layer = {};
  for (const [key, value] of Object.entries(raw as Record<string, unknown>)) {
    const def = (PARAMETERS as Record<string, (typeof PARAMETERS)[ParameterName]>)[key];
    if (!def) {
      warnings.push(`${file}: unknown key "${key}" ignored`);
      continue;
    }
    const parsed = schemaOf(def.rule).safeParse(value);
    if (parsed.success) out[key as ParameterName] = parsed.data;
    else problems.push(`${file}: key "${key}" ${describeRule(def.rule)} (got ${JSON.stringify(value)})`);
  }
  return out;
}

/** SPEC 2.7 merge strategies; every other key: the base file wins, then module files in name order. */
export function mergeLayers(layers: readonly Layer[]): ParameterValues {
  const values = {} as Record<ParameterName, unknown>;
  const setters = (key: ParameterName) => layers.map((l) => l[key]).filter((v) => v !== undefined);
  for (const key of Object.keys(PARAMETERS) as ParameterName[]) {
    const given = setters(key);
    const fallback = PARAMETERS[key].default;
    switch (key) {
      case 'maxSizeMB':
      case 'logRotations':
        values[key] = given.length ? Math.max(...(given as number[])) : fallback;
        break;
      case 'logMaxSize':
      case 'cpuThreshold':
        values[key] = given.length ? Math.min(...(given as number[])) : fallback;
        break;
      case 'rawLogging':
      case 'cpuKillEnabled':
        values[key] = given.length ? given.every((v) => v === true) : fallback;
        break;
      default:
        values[key] = given.length ? given[0] : fallback;
    }
  }
  const merged = values as ParameterValues;
  // SPEC 2.6: both runtime and absolute caps default to twice the storage limit.
  merged.MaxRuntimeStorageSizeMB ??= 2 * merged.maxSizeMB;
  merged.AbsoluteMaxStorageSizeMB ??= 2 * merged.maxSizeMB;
  return merged;
}

function readLayer(dir: string, file: string, problems: string[], warnings: string[]): Layer {
  let text: string;
  try {
    text = readFileSync(join(dir, file), 'utf8');
  } catch (err) {
    problems.push(`${file}: cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
    return {};
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    problems.push(`${file}: is not valid JSON (${(err as Error).message})`);
    return {};
  }
  return validateLayer(file, raw, problems, warnings);
}

/** Reads and validates the configuration directory; throws ConfigError listing every problem. */
export function loadConfig(configDir: string): RecorderConfig {
  const dir = resolve(configDir);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    throw new ConfigError([`${dir}: configuration directory cannot be read (${(err as NodeJS.ErrnoException).code})`]);
  }
  const files = [
    ...(names.includes(BASE_CONFIG_FILE) ? [BASE_CONFIG_FILE] : []),
    ...names.filter((n) => MODULE_CONFIG.test(n)).sort(),
  ];
  const problems: string[] = [];
  const warnings: string[] = [];
  const layers = files.map((f) => readLayer(dir, f, problems, warnings));
  if (problems.length) throw new ConfigError(problems);
  const values = mergeLayers(layers);
  if (values.MonitorImageLoad) warnings.push('MonitorImageLoad: image-load events are not recorded on Linux (SPEC 2.1); ignored');
  if (layers.some((l) => l.SQLiteChunkSizeMB !== undefined)) {
    warnings.push('SQLiteChunkSizeMB: needs sqlite3_file_control(SQLITE_FCNTL_CHUNK_SIZE), which better-sqlite3 does not expose (no pragma or VFS option sets it); monitor.db grows page by page; ignored');
  }
  const at = (p: string) => (isAbsolute(p) ? p : join(dir, p));
  return {
    ...values,
    configDir: dir,
    files,
    warnings,
    paths: {
      db: at(values.dbLocation),
      filters: at(values.filterLocation),
      watchlist: at(values.WatchlistFile),
      signals: at(values.SignalsJSONFile),
      log: join(dir, 'recorder.log'),
      state: join(dir, 'recorder.state.json'),
      pid: join(dir, 'recorder.pid'),
    },
  };
}
