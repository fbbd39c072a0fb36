// The per-user dcctl configuration file: server addresses, TLS trust and the bearer token (mode 0600).
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_PORTS } from '@dc/proto';
import { writeFileAtomic } from '@dc/service-kit';

/** What `dcctl login` stores. Every field is optional; flags override it per call. */
export interface DcctlConfig {
  /** Bearer token (never printed). */
  token?: string;
  /** Module server API address, host:port. */
  api?: string;
  /** Settings address, host:port. */
  settings?: string;
  /** Certificate authority address, host:port. */
  ca?: string;
  /** PEM trust bundle: when set, every service is dialled with TLS checked against it. */
  caFile?: string;
  /** Name to check the servers' certificates against instead of the dialled host. */
  tlsServerName?: string;
  /** Services dialled with TLS, e.g. "settings,ca" (default: all when caFile is set). */
  tlsServices?: string;
}

export const DEFAULT_ADDRESSES = {
  api: `127.0.0.1:${DEFAULT_PORTS.moduleServerApi}`,
  settings: `127.0.0.1:${DEFAULT_PORTS.settings}`,
  ca: `127.0.0.1:${DEFAULT_PORTS.certAuthority}`,
} as const;

/** Thrown when the config file exists but cannot be used; the message names the file. */
export class ConfigFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigFileError';
  }
}

/** `DCCTL_CONFIG`, else `$XDG_CONFIG_HOME/dcctl/config.json`, else `~/.config/dcctl/config.json`. */
export function configPath(env: Record<string, string | undefined>): string {
  if (env.DCCTL_CONFIG) return env.DCCTL_CONFIG;
  const base = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config');
  return join(base, 'dcctl', 'config.json');
}

const KEYS: ReadonlyArray<keyof DcctlConfig> = ['token', 'api', 'settings', 'ca', 'caFile', 'tlsServerName', 'tlsServices'];

/** Reads the config file; a missing file is an empty config. */
export function readConfig(path: string): DcctlConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new ConfigFileError(`config file "${path}" cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ConfigFileError(`config file "${path}" is not valid JSON: fix it or delete it and run "dcctl login" again`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigFileError(`config file "${path}" must hold a JSON object`);
  }
  const config: DcctlConfig = {};
  for (const key of KEYS) {
    const value = (parsed as Record<string, unknown>)[key];
    if (value === undefined) continue;
    if (typeof value !== 'string') throw new ConfigFileError(`config file "${path}": key "${key}" must be a string (got ${JSON.stringify(value)})`);
    config[key] = value;
  }
  return config;
}

/** Writes the config atomically (temp file, fsync, rename) with mode 0600: it holds a token. */
export function writeConfig(path: string, config: DcctlConfig): void {
  writeFileAtomic(path, `${JSON.stringify(config, null, 2)}\n`);
}
