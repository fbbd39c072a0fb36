// `recorder connect` and `recorder doctor`: the endpoint's side of Direct Connect (SPEC §1, §3).
// The connection comes from the endpoint package settings built (configuration.json in the
// tools directory); answers to session requests come from this recorder's monitor.db.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { hostname, networkInterfaces, platform, release } from 'node:os';
import { join } from 'node:path';
import { openMonitorDb, recreateMonitorDb, type MonitorDb } from '@dc/monitor-db';
import { commonV1 as common } from '@dc/proto';
import { VERSION } from '@dc/service-kit';
import { loadConfig, type RecorderConfig } from '../config/load-config';
import { runDoctor } from '../connectivity/doctor';
import { EndpointAgent, type EndpointFacts } from '../connectivity/endpoint-agent';
import { EndpointConfigurationState } from '../connectivity/configure-extension';
import { goodbyeOnSignal, type SystemStateProbe } from '../connectivity/goodbye-reason';
import { IdentityStore } from '../connectivity/identity-store';
import { removeItems, toolsRemovalPlan } from '../connectivity/remove-tools';
import { type Route, routesFromConfiguration } from '../connectivity/routes';
import { writeFileAtomic } from '../audit-plumbing/atomic-write';
import { keyStoreDir, retrieveKey } from '../protect/key-store';
import { findFiles } from '../reveal/file-search';
import { validatePatterns } from '../reveal/patterns';
import { runningPid } from '../status/status';
import { type Io, stdio } from './commands';

interface ConnectOptions {
  readonly config: string;
  readonly json?: boolean;
  /** The package's configuration.json (default: <config>/configuration.json). */
  readonly configuration?: string;
  /** Name in the broker's certificate, when the package's FQDN is dialled by another name. */
  readonly serverName?: string;
  readonly hostName?: string;
}

/** Where `recorder connect` records its pid while it runs. */
export function connectPidFile(configDir: string): string {
  return join(configDir, 'connect.pid');
}

/** Thrown when the endpoint package is missing or unreadable: the operator reinstalls it. */
export class PackageError extends Error {}

function readPackage(opts: ConnectOptions): { configuration: common.EndpointConfiguration; routes: Route[] } {
  const file = opts.configuration ?? join(opts.config, 'configuration.json');
  if (!existsSync(file)) {
    throw new PackageError(`no endpoint package configuration at ${file}: install the Direct Connect package (its configuration.json) into the tools directory`);
  }
  let configuration: common.EndpointConfiguration;
  try {
    configuration = common.EndpointConfiguration.fromJSON(JSON.parse(readFileSync(file, 'utf8')));
  } catch (err) {
    throw new PackageError(`${file}: is not a valid endpoint configuration (${(err as Error).message})`);
  }
  if (!configuration.trustBundlePem.includes('BEGIN CERTIFICATE')) throw new PackageError(`${file}: trustBundlePem holds no certificate`);
  const routes = routesFromConfiguration(configuration).map((r) => (r.name === 'direct' && opts.serverName ? { ...r, serverName: opts.serverName } : r));
  return { configuration, routes };
}

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'];

const OS: Record<string, common.OperatingSystem> = {
  linux: common.OperatingSystem.OPERATING_SYSTEM_LINUX,
  darwin: common.OperatingSystem.OPERATING_SYSTEM_MACOS,
  win32: common.OperatingSystem.OPERATING_SYSTEM_WINDOWS,
};

/** The recorder's state as the broker sees it: running unless DisableTrace is set (SPEC 2.4). */
function recorderStatus(config: RecorderConfig, db: MonitorDb): common.RecorderStatus {
  const disabled = db.disableTraceStatus();
  const sizeBytes = db.sizeBytes();
  return common.RecorderStatus.fromPartial({
    state: disabled.disabled ? common.RecorderState.RECORDER_STATE_STOPPED : common.RecorderState.RECORDER_STATE_RUNNING,
    stopReason: disabled.disabled ? common.RecorderStopReason.RECORDER_STOP_REASON_MANUAL : undefined,
    detail: disabled.reason ?? (runningPid(config.paths.pid) === null ? 'recording process not running; the database answers queries' : ''),
    databaseSizeBytes: sizeBytes,
    databaseLimitBytes: config.maxSizeMB * 1024 * 1024,
    recorderVersion: VERSION,
  });
}

/** `recorder connect`: enrols if needed, holds the control channel on the package's routes, answers sessions. */
export async function connectCommand(opts: ConnectOptions, io: Io = stdio, deps: { systemState?: SystemStateProbe } = {}): Promise<number> {
  const config = loadConfig(opts.config);
  const { configuration, routes } = readPackage(opts);
  const identity = new IdentityStore(join(opts.config, 'identity'));
  // Configure Extension (SPEC 1.4.4) rewrites configuration.json and the recorder files; lock mode and log level apply live.
  const live = new EndpointConfigurationState(configuration, { configurationFile: opts.configuration ?? join(opts.config, 'configuration.json'), recorderConfigDir: opts.config });
  // Lines on stdout, one JSON object each (the foreground form of the agent's log), at the configured level.
  const line = (level: string, obj: object, msg: string) => {
    if (LEVELS.indexOf(level) >= LEVELS.indexOf(live.logLevel() ?? 'info')) io.out(`${JSON.stringify({ level, time: Date.now(), ...obj, msg })}\n`);
  };
  const log = { info: (o: object, m: string) => line('info', o, m), warn: (o: object, m: string) => line('warn', o, m), debug: (o: object, m: string) => line('debug', o, m) };
  let db: MonitorDb | undefined;
  let toolsRemoved = false;
  const monitorDb = () => {
    if (toolsRemoved) throw new Error('the Direct Connect tools were removed from this endpoint');
    return (db ??= openMonitorDb({ path: config.paths.db }));
  };
  const ips = Object.values(networkInterfaces()).flat().filter((i) => i && !i.internal).map((i) => i!.address);
  const facts = (): EndpointFacts => ({
    hostName: opts.hostName ?? hostname(),
    ipAddresses: ips,
    os: OS[platform()] ?? common.OperatingSystem.OPERATING_SYSTEM_UNSPECIFIED,
    osVersion: release(),
    architecture: process.arch,
    toolsVersion: VERSION,
    recorderVersion: VERSION,
    actionLock: false,
    recorderStatus: toolsRemoved ? undefined : recorderStatus(config, monitorDb()),
  });
  const pidFile = connectPidFile(opts.config);
  let toolsGone: (() => void) | undefined;
  const agent = new EndpointAgent({
    brokerAddress: routes[0]!.address,
    routes,
    caPem: configuration.trustBundlePem,
    enrolmentToken: configuration.enrolmentToken || undefined,
    identity,
    facts,
    actionLockMode: () => live.actionLockMode(),
    configuration: {
      revision: () => live.revision(),
      // Recorder files reach the recording process when it re-reads them (SIGHUP or its next start).
      apply: (next, o) => {
        const applied = live.apply(next, o);
        return { ...applied, routes: applied.routes.map((r) => (r.name === 'direct' && opts.serverName ? { ...r, serverName: opts.serverName } : r)) };
      },
    },
    handlers: {
      monitorDb,
      recorderStatus: () => recorderStatus(config, monitorDb()),
      controlRecorder: (command, reason) => {
        if (command === 'stop') monitorDb().setDisableTrace(reason || 'stopped through Direct Connect');
        else monitorDb().clearDisableTrace();
        return recorderStatus(config, monitorDb());
      },
      recreateDatabase: () => {
        const removed = monitorDb().sizeBytes();
        monitorDb().close();
        db = recreateMonitorDb({ path: config.paths.db, reason: 'Recreate Database through Direct Connect' }).db;
        return { removedSizeBytes: removed, status: recorderStatus(config, db) };
      },
      // Reveal and Protect (SPEC 1.1.3); the key store lives in the tools directory.
      findFiles: (search) => findFiles(search),
      validatePatterns,
      retrieveKey: (r, context) => retrieveKey(r, { dir: keyStoreDir(opts.config) }, context),
    },
    log,
    // Remove Tools (SPEC 1.7.4): the database is closed first, then only this agent's own paths go.
    removeTools: (removeRecorderData) => {
      toolsRemoved = true;
      db?.close();
      db = undefined;
      let removed: string[];
      try {
        removed = removeItems(toolsRemovalPlan({
          toolsDir: opts.config, configurationFile: opts.configuration ?? join(opts.config, 'configuration.json'), identityDir: identity.dir,
          keysDir: keyStoreDir(opts.config), pidFile, monitorDb: config.paths.db,
        }, removeRecorderData));
      } catch (err) {
        toolsRemoved = false; // the agent stays and keeps answering; the broker sees the error naming the file
        throw err;
      }
      return `removed ${removed.length} path(s)${removeRecorderData ? ', recorder data included' : ''}`;
    },
    onToolsRemoved: () => toolsGone?.(),
  });
  agent.start();
  // The doctor's "agent running" step (SPEC 3.5) looks for this process.
  writeFileAtomic(pidFile, `${process.pid}\n`);
  line('info', { ports: {}, routes: routes.map((r) => `${r.name} ${r.address}`) }, 'service started');
  const signal = await new Promise<string>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
    toolsGone = () => resolve('');
  });
  // A stop on a signal says goodbye (MACHINE_SHUTDOWN when the system is stopping); after Remove Tools the agent already left.
  if (signal) await agent.stop(2000, await goodbyeOnSignal(signal, deps.systemState));
  else line('info', {}, 'Direct Connect tools removed; not reconnecting');
  db?.close();
  rmSync(pidFile, { force: true });
  line('info', {}, 'service stopped');
  return 0;
}

/** `recorder doctor`: checks each route step by step (SPEC §3.5); exit 1 when a step failed. */
export async function doctorCommand(opts: ConnectOptions, io: Io = stdio): Promise<number> {
  const { configuration, routes } = readPackage(opts);
  const identity = new IdentityStore(join(opts.config, 'identity'));
  const agentRunning = () => {
    const file = connectPidFile(opts.config);
    const pid = runningPid(file);
    return pid === null ? { running: false, detail: `no \`recorder connect\` process (pid file ${file})` } : { running: true, detail: `recorder connect, pid ${pid}` };
  };
  const results = [];
  for (const route of routes) {
    const steps = await runDoctor({ brokerAddress: route.address, serverName: route.serverName, identity, caPem: configuration.trustBundlePem, agentRunning });
    results.push({ route: route.name, address: route.address, steps });
  }
  if (opts.json) io.out(`${JSON.stringify({ routes: results })}\n`);
  else {
    for (const r of results) {
      io.out(`route ${r.route} (${r.address})\n`);
      for (const s of r.steps) io.out(`  ${s.outcome.padEnd(7)} ${s.name}: ${s.detail}\n`);
    }
  }
  // Healthy when at least one route works end to end (the agent falls back between them).
  return results.some((r) => r.steps.every((s) => s.outcome !== 'failed')) ? 0 : 1;
}
