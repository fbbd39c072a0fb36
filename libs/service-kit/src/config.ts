// Configuration from a JSON/YAML file plus environment overrides, validated once at start.
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

/** Thrown when configuration is missing, unreadable or breaks a rule; the message names the key. */
export class ConfigError extends Error {
  constructor(
    message: string,
    readonly issues: readonly ConfigIssue[] = [],
  ) {
    super(message);
    this.name = 'ConfigError';
  }
}

export interface ConfigIssue {
  /** Dotted key, e.g. `grpc.port`. */
  readonly key: string;
  /** Where the value came from: the file path, `env DC_X_Y`, `flag --x`, or `default`. */
  readonly source: string;
  /** The rule broken, in words. */
  readonly rule: string;
  readonly value: unknown;
}

export interface LoadConfigOptions<S extends z.ZodType> {
  /** The app's schema: a zod object with defaults for every optional key. */
  readonly schema: S;
  /** Optional config file (.json, .yaml or .yml). A missing file named explicitly is an error. */
  readonly file?: string;
  /** Environment to read overrides from (default: process.env). */
  readonly env?: Record<string, string | undefined>;
  /**
   * Prefix of the app's variables, e.g. `DC_SETTINGS_`. After the prefix, `__` separates
   * nesting levels and single `_` separates words: `DC_SETTINGS_GRPC__PORT=1` sets `grpc.port`,
   * `DC_SETTINGS_DATA_DIR=/x` sets `dataDir`.
   */
  readonly envPrefix: string;
  /** Values from command-line flags, already keyed by dotted path; they win over everything. */
  readonly overrides?: Readonly<Record<string, unknown>>;
}

/** Loads, merges (defaults < file < env < flags) and validates configuration. */
export function loadConfig<S extends z.ZodType>(options: LoadConfigOptions<S>): z.infer<S> {
  const sources = new Map<string, string>();
  const merged: Record<string, unknown> = {};

  if (options.file) {
    const fromFile = readConfigFile(options.file);
    for (const [key, value] of flatten(fromFile)) {
      setPath(merged, key, value);
      sources.set(key, options.file);
    }
  }
  const env = options.env ?? process.env;
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith(options.envPrefix) || raw === undefined) continue;
    const key = envNameToKey(name.slice(options.envPrefix.length));
    setPath(merged, key, parseEnvValue(raw));
    sources.set(key, `env ${name}`);
  }
  for (const [key, value] of Object.entries(options.overrides ?? {})) {
    if (value === undefined) continue;
    setPath(merged, key, value);
    sources.set(key, `flag --${key.replace(/\./g, '-')}`);
  }

  const result = options.schema.safeParse(merged);
  if (result.success) return result.data;
  const issues: ConfigIssue[] = result.error.issues.map((issue) => {
    const key = issue.path.map(String).join('.') || '(root)';
    const value = getPath(merged, issue.path.map(String));
    const unknownKeys = issue.code === 'unrecognized_keys' ? issue.keys : [];
    if (unknownKeys.length > 0) {
      const full = unknownKeys.map((k) => (key === '(root)' ? k : `${key}.${k}`));
      return {
        key: full.join(', '),
        source: sources.get(full[0] ?? '') ?? 'config',
        rule: 'is not a known configuration key',
        value: undefined,
      };
    }
    return { key, source: sourceOf(sources, key), rule: issue.message, value };
  });
  const first = issues[0]!;
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more: ${issues.slice(1).map((i) => i.key).join(', ')})` : '';
  throw new ConfigError(`${describeIssue(first)}${more}`, issues);
}

/** `config key "grpc.port" (env DC_SETTINGS_GRPC__PORT): must be <= 65535 (got 70000)` */
export function describeIssue(issue: ConfigIssue): string {
  const got = issue.value === undefined ? '' : ` (got ${JSON.stringify(issue.value)})`;
  return `config key "${issue.key}" (${issue.source}): ${issue.rule}${got}`;
}

function sourceOf(sources: Map<string, string>, key: string): string {
  for (let k = key; k; k = k.includes('.') ? k.slice(0, k.lastIndexOf('.')) : '') {
    const s = sources.get(k);
    if (s) return s;
  }
  return 'default';
}

function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`config file "${file}": cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  let parsed: unknown;
  try {
    parsed = ['.yaml', '.yml'].includes(extname(file)) ? parseYaml(text) : JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`config file "${file}": is not valid ${extname(file) === '.json' ? 'JSON' : 'JSON/YAML'} (${(err as Error).message})`);
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError(`config file "${file}": must hold an object of keys, not ${Array.isArray(parsed) ? 'an array' : typeof parsed}`);
  }
  return parsed as Record<string, unknown>;
}

function envNameToKey(rest: string): string {
  return rest
    .split('__')
    .map((segment) => segment.toLowerCase().replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase()))
    .join('.');
}

/** Numbers, booleans and JSON arrays/objects are parsed; anything else stays a string. */
function parseEnvValue(raw: string): unknown {
  const t = raw.trim();
  if (t === 'true' || t === 'false' || t === 'null' || /^-?\d+(\.\d+)?$/.test(t) || t.startsWith('[') || t.startsWith('{')) {
    try {
      return JSON.parse(t);
    } catch {
      return raw;
    }
  }
  return raw;
}

function flatten(obj: Record<string, unknown>, prefix = ''): Array<[string, unknown]> {
  const out: Array<[string, unknown]> = [];
  for (const [k, v] of Object.entries(obj)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) out.push(...flatten(v as Record<string, unknown>, key));
    else out.push([key, v]);
  }
  return out;
}

function setPath(target: Record<string, unknown>, key: string, value: unknown): void {
  const parts = key.split('.');
  let node = target;
  for (const part of parts.slice(0, -1)) {
    const next = node[part];
    if (next === null || typeof next !== 'object' || Array.isArray(next)) node[part] = {};
    node = node[part] as Record<string, unknown>;
  }
  node[parts[parts.length - 1]!] = value;
}

function getPath(target: unknown, parts: string[]): unknown {
  let node = target;
  for (const part of parts) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

// Schema pieces every app shares.

/** A TCP port; 0 asks the OS for a free one (tests). */
export const portSchema = z.number().int('must be a whole number').min(0, 'must be from 0 to 65535').max(65535, 'must be from 0 to 65535');

/** A listen address: host (IP or name) and port. */
export function listenSchema(defaultPort: number, defaultHost = '127.0.0.1') {
  return z
    .object({
      host: z.string().min(1, 'must not be empty').default(defaultHost),
      port: portSchema.default(defaultPort),
    })
    .strict()
    .prefault({});
}

/** SPEC 1.7: trace, debug, info (default), warn, error, fatal. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const logLevelSchema = z.enum(LOG_LEVELS, { message: `must be one of ${LOG_LEVELS.join(', ')}` });

/** The Prometheus endpoint: `enabled: false` turns it off; port 0 picks a free port. */
export function metricsSchema(defaultPort: number) {
  return z
    .object({
      enabled: z.boolean().default(true),
      host: z.string().min(1).default('127.0.0.1'),
      port: portSchema.default(defaultPort),
    })
    .strict()
    .prefault({});
}
