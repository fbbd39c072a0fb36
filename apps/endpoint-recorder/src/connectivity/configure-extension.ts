// Configure Extension on the endpoint (SPEC 1.4.4): check a new EndpointConfiguration, write the
// recorder's files and configuration.json atomically (an invalid set changes nothing), and keep
// the values the agent applies live: heartbeat policy, action lock mode, log level and routes.
import { X509Certificate } from 'node:crypto';
import { copyFileSync, existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FilterValidationError } from '@dc/filters';
import { commonV1 as common } from '@dc/proto';
import { writeFileAtomic } from '@dc/service-kit';
import { writeFileAtomic as writeKeepingMode } from '../audit-plumbing/atomic-write';
import { ConfigError, loadConfig } from '../config/load-config';
import { loadFilters } from '../pipeline/load-filters';
import type { ActionLockMode } from './endpoint-agent';
import { type Route, routesFromConfiguration } from './routes';

/** Thrown when a configuration is refused; `field` names where, the message says the rule and the value. */
export class ConfigurationRejected extends Error {
  constructor(
    readonly field: string,
    rule: string,
  ) {
    super(`${field}: ${rule}`);
    this.name = 'ConfigurationRejected';
  }
}

/** Where the configuration lives on the endpoint. */
export interface ConfigurationFiles {
  /** configuration.json: the package configuration `recorder connect --config DIR` reads. */
  readonly configurationFile: string;
  /** The recorder's configuration directory (recorder.json, filters.json, each module's files; SPEC 2.3). */
  readonly recorderConfigDir: string;
}

/** What applying a configuration changed, for the agent to act on live. */
export interface ConfigurationApplied {
  readonly revision: number;
  /** The routes of the new configuration, in the order they are tried. */
  readonly routes: Route[];
  readonly routesChanged: boolean;
  /** Heartbeat interval of the new configuration, when it sets one. */
  readonly heartbeatIntervalMs?: number;
  /** Recorder files written, by name. */
  readonly recorderFiles: readonly string[];
  /** One line for the action's SUCCEEDED detail. */
  readonly detail: string;
}

const MAX_RECORDER_FILE_BYTES = 1024 * 1024;
const FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}\.json$/;
/** Files of the tools directory no recorder file may replace. */
const RESERVED = new Set(['configuration.json', 'identity.json', 'recorder.state.json']);
const HOST_LABEL = /^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$/;

function validHost(host: string): boolean {
  if (isIP(host)) return true;
  return host.length <= 253 && host.split('.').every((l) => HOST_LABEL.test(l));
}

function checkPort(field: string, port: number): void {
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigurationRejected(field, `must be a port from 1 to 65535, or 0 for the default (got ${port})`);
}

function known(enumObject: object, value: number): boolean {
  return value >= 0 && Object.values(enumObject).includes(value);
}

/** Checks every field of a configuration; throws ConfigurationRejected naming the first bad one. */
export function validateConfiguration(c: common.EndpointConfiguration): void {
  if (!Number.isInteger(c.revision) || c.revision <= 0) throw new ConfigurationRejected('configuration.revision', `must be a positive integer (got ${c.revision})`);
  if (c.brokerHost && !validHost(c.brokerHost)) {
    throw new ConfigurationRejected('configuration.broker_host', `must be a host name, FQDN or IP address (got ${JSON.stringify(c.brokerHost)})`);
  }
  checkPort('configuration.broker_port', c.brokerPort);
  const pems = c.trustBundlePem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (pems.length === 0) throw new ConfigurationRejected('configuration.trust_bundle_pem', 'must hold at least one PEM certificate (found none)');
  pems.forEach((pem, i) => {
    try {
      new X509Certificate(pem);
    } catch (err) {
      throw new ConfigurationRejected('configuration.trust_bundle_pem', `certificate ${i + 1} cannot be read (${(err as Error).message})`);
    }
  });
  c.zoneRoutes.forEach((z, i) => {
    if (!z.host || !validHost(z.host)) throw new ConfigurationRejected(`configuration.zone_routes[${i}].host`, `must be a host name, FQDN or IP address (got ${JSON.stringify(z.host)})`);
    checkPort(`configuration.zone_routes[${i}].port`, z.port);
  });
  if ((c.directRouteDisabled || !c.brokerHost) && c.zoneRoutes.length === 0) {
    throw new ConfigurationRejected('configuration.zone_routes', `must list a zone route when ${c.directRouteDisabled ? 'direct_route_disabled is set' : 'broker_host is empty'} (got none): the endpoint would have no route`);
  }
  const hb = c.heartbeatPolicy;
  if (hb?.interval) {
    const s = hb.interval.seconds + hb.interval.nanos / 1e9;
    if (s < 5 || s > 3600) throw new ConfigurationRejected('configuration.heartbeat_policy.interval', `must be from 5 s to 1 h (got ${s} s)`); // SPEC 3.1
  }
  if (hb && hb.missedHeartbeatsBeforeOffline > 1000) {
    throw new ConfigurationRejected('configuration.heartbeat_policy.missed_heartbeats_before_offline', `must be from 1 to 1000 (got ${hb.missedHeartbeatsBeforeOffline})`);
  }
  if (!known(common.ActionLockMode, c.actionLockMode)) throw new ConfigurationRejected('configuration.action_lock_mode', `must be a known action lock mode (got ${c.actionLockMode})`);
  if (!known(common.LogLevel, c.logLevel)) throw new ConfigurationRejected('configuration.log_level', `must be a known log level (got ${c.logLevel})`);
  const seen = new Set<string>();
  c.recorderFiles.forEach((f, i) => {
    const field = `configuration.recorder_files[${i}]`;
    if (!FILE_NAME.test(f.name) || f.name.includes('..')) {
      throw new ConfigurationRejected(`${field}.name`, `must be a JSON file name without path separators (letters, digits, '.', '_', '-'; ending .json) (got ${JSON.stringify(f.name)})`);
    }
    if (RESERVED.has(f.name)) throw new ConfigurationRejected(`${field}.name`, `must not be ${f.name}, which the agent owns (got ${JSON.stringify(f.name)})`);
    if (seen.has(f.name)) throw new ConfigurationRejected(`${field}.name`, `must be unique (got ${JSON.stringify(f.name)} twice)`);
    seen.add(f.name);
    if (Buffer.byteLength(f.content) > MAX_RECORDER_FILE_BYTES) {
      throw new ConfigurationRejected(`${field}.content`, `must be at most ${MAX_RECORDER_FILE_BYTES} bytes (got ${Buffer.byteLength(f.content)} for ${f.name})`);
    }
    try {
      JSON.parse(f.content);
    } catch (err) {
      throw new ConfigurationRejected(`${field}.content`, `${f.name} is not valid JSON (${(err as Error).message})`);
    }
  });
}

/**
 * Validates the recorder files with the recorder's own loaders (recorder.json merge, filters,
 * watchlist, signals) against the directory as it would be after the write: the files there now
 * with the new ones laid over them, copied to a scratch directory.
 */
export function checkRecorderFiles(files: readonly common.ConfigFile[], recorderConfigDir: string): void {
  if (files.length === 0) return;
  const stage = mkdtempSync(join(tmpdir(), 'dc-configure-'));
  const fieldOf = (problem: string) => {
    const i = files.findIndex((f) => problem.startsWith(`${f.name}:`) || problem.startsWith(`${f.name} `));
    return i >= 0 ? `configuration.recorder_files[${i}]` : 'configuration.recorder_files';
  };
  try {
    if (existsSync(recorderConfigDir)) {
      for (const name of readdirSync(recorderConfigDir)) {
        const from = join(recorderConfigDir, name);
        if (name.endsWith('.json') && !RESERVED.has(name) && lstatSync(from).isFile()) copyFileSync(from, join(stage, name));
      }
    }
    for (const f of files) writeFileSync(join(stage, f.name), f.content);
    let config;
    try {
      config = loadConfig(stage);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      const first = err.problems[0] ?? err.message;
      throw new ConfigurationRejected(fieldOf(first), err.problems.join('; '));
    }
    try {
      loadFilters(config);
    } catch (err) {
      if (!(err instanceof FilterValidationError)) throw err;
      throw new ConfigurationRejected(fieldOf(`${err.source}:`), err.message.replace(/\n\s*/g, ' '));
    }
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

/** SPEC 1.4.4: BLOCK_ALL when the configuration says nothing. */
export function actionLockModeOf(mode: common.ActionLockMode): ActionLockMode {
  const name = common.actionLockModeToJSON(mode).replace(/^ACTION_LOCK_MODE_/, '');
  return name === 'ALLOW_NEW_CONNECTIONS' || name === 'ALLOW_NEW_CONNECTIONS_AND_CONFIGURATION' ? name : 'BLOCK_ALL';
}

/** The pino name of a contract log level; undefined for UNSPECIFIED (keep the current one). */
export function logLevelOf(level: common.LogLevel): string | undefined {
  const name = common.logLevelToJSON(level).replace(/^LOG_LEVEL_/, '').toLowerCase();
  return ['trace', 'debug', 'info', 'warn', 'error', 'fatal'].includes(name) ? name : undefined;
}

function sameRoutes(a: readonly Route[], b: readonly Route[]): boolean {
  return a.length === b.length && a.every((r, i) => r.name === b[i]!.name && r.address === b[i]!.address);
}

/** The configuration in force on this endpoint, and how a new one is applied. */
export class EndpointConfigurationState {
  private configuration: common.EndpointConfiguration;

  constructor(
    initial: common.EndpointConfiguration,
    private readonly files: ConfigurationFiles,
  ) {
    this.configuration = initial;
  }

  get current(): common.EndpointConfiguration {
    return this.configuration;
  }

  /** The content revision applied (reported in the hello). */
  revision(): number {
    return this.configuration.revision;
  }

  actionLockMode(): ActionLockMode {
    return actionLockModeOf(this.configuration.actionLockMode);
  }

  logLevel(): string | undefined {
    return logLevelOf(this.configuration.logLevel);
  }

  /**
   * Validates, then writes the recorder files and configuration.json (the commit point: its
   * revision is what the next hello reports). The enrolment token already in configuration.json
   * is kept only while the endpoint is not enrolled; the action's own is never written.
   * Throws ConfigurationRejected (nothing written) or an I/O error.
   */
  apply(next: common.EndpointConfiguration, opts: { enrolled: boolean }): ConfigurationApplied {
    validateConfiguration(next);
    checkRecorderFiles(next.recorderFiles, this.files.recorderConfigDir);
    const routes = routesFromConfiguration(next);
    const before = this.configuration;
    for (const f of next.recorderFiles) writeKeepingMode(join(this.files.recorderConfigDir, f.name), f.content);
    const token = opts.enrolled ? '' : this.storedEnrolmentToken();
    const stored: common.EndpointConfiguration = { ...next, enrolmentToken: token };
    writeFileAtomic(this.files.configurationFile, `${JSON.stringify(common.EndpointConfiguration.toJSON(stored), null, 2)}\n`, { mode: 0o600 });
    this.configuration = stored;
    const iv = next.heartbeatPolicy?.interval;
    const routesChanged = !sameRoutes(safeRoutes(before), routes);
    const changed = [
      routesChanged ? `routes ${routes.map((r) => r.address).join(', ')}` : '',
      next.recorderFiles.length ? `recorder files ${next.recorderFiles.map((f) => f.name).join(', ')}` : '',
    ].filter(Boolean);
    return {
      revision: next.revision,
      routes,
      routesChanged,
      heartbeatIntervalMs: iv ? iv.seconds * 1000 + iv.nanos / 1e6 : undefined,
      recorderFiles: next.recorderFiles.map((f) => f.name),
      detail: `content revision ${next.revision} applied${changed.length ? ` (${changed.join('; ')})` : ''}`,
    };
  }

  private storedEnrolmentToken(): string {
    try {
      return common.EndpointConfiguration.fromJSON(JSON.parse(readFileSync(this.files.configurationFile, 'utf8'))).enrolmentToken;
    } catch {
      return this.configuration.enrolmentToken;
    }
  }
}

function safeRoutes(c: common.EndpointConfiguration): Route[] {
  try {
    return routesFromConfiguration(c);
  } catch {
    return [];
  }
}
