// The shared topology of `npm start` and these tests is tools/dev/topology.mjs (plain JavaScript,
// so `npm start` runs it with no build step). tools/dev is not an Nx project, so it is loaded here
// by path rather than imported, and its API is typed below.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { workspaceRoot } from '@dc/service-kit/testing';

export type ServerName = 'cert-authority' | 'settings' | 'module-server' | 'zone-proxy';
export type RecorderName = 'recorder-direct' | 'recorder-zone';
export type AppName = ServerName | RecorderName;

export interface Ports {
  ca: number;
  caMetrics: number;
  settings: number;
  settingsMetrics: number;
  api: number;
  gateway: number;
  moduleServerMetrics: number;
  zoneEndpointInbound: number;
  zoneModuleServerInbound: number;
  zoneProvisioning: number;
  zoneMetrics: number;
}

export interface RunResult {
  code: number;
  signal: string | null;
  stdout: string;
  stderr: string;
}


export interface AppProcess {
  readonly name: AppName;
  readonly logs: Array<Record<string, unknown>>;
  readonly stderr: string[];
  readonly ports: Record<string, number>;
  readonly running: boolean;
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<number | string>;
}

export interface TopologyOptions {
  dataRoot: string;
  ports: Ports;
  setupMode?: 'default' | 'custom';
  /** Every log line of every app (stderr lines with isStderr true). */
  onLine?: (app: AppName, rec: Record<string, unknown>, isStderr: boolean) => void;
  onUnexpectedExit?: (app: AppName, code: number | null, signal: string | null) => void;
  startTimeoutMs?: number;
  zoneConnectTimeoutMs?: number;
  /** `dcctl heartbeat set` options applied at start, before the recorders connect. */
  heartbeat?: string[];
  /** Start the two recorders (default true). */
  recorders?: boolean;
}

export interface Topology {
  readonly dataRoot: string;
  readonly ports: Ports;
  readonly logDir: string;
  readonly trustBundle: string;
  readonly adminTokenFile: string;
  readonly provisionFile: string;
  readonly caDir: string;
  /** Bootstrap steps of this run: step -> 'done' | 'already done'. */
  readonly bootstrap: Record<string, string>;
  readonly recorderReplays: Record<string, { sample: string; now: string; result: Record<string, unknown> }>;
  zoneProxyConnected: boolean | undefined;
  /** The endpoint configuration (package configuration.json) each recorder was installed with. */
  readonly packages: Record<string, Record<string, unknown>>;
  dir(app: AppName): string;
  adminToken(): string;
  address(key: keyof Ports): string;
  app(name: AppName): AppProcess;
  start(): Promise<void>;
  stop(): Promise<Record<string, number | string>>;
  /** SIGKILL every app still running, synchronously (for process exit handlers). */
  killAllNow(): void;
  /** Stops one app (SIGTERM by default), not reported as an unexpected exit. */
  stopApp(name: AppName, signal?: NodeJS.Signals): Promise<number | string>;
  /** SIGKILL, not reported as an unexpected exit. */
  kill(name: AppName): Promise<number | string>;
  /** Starts it again with the same ports and data; resolves with the ports it logged. */
  restart(name: AppName): Promise<Record<string, number>>;
  dcctl(args: readonly string[], opts?: { token?: string; timeoutMs?: number }): Promise<RunResult>;
  dcctlGlobalArgs(): string[];
  dcctlJson<T = Record<string, unknown>>(args: readonly string[], opts?: { token?: string; timeoutMs?: number }): Promise<T>;
  zoneProxyStatus(): Promise<string>;
  waitZoneProxyConnected(timeoutMs?: number): Promise<boolean>;
  recorderRoute(name: RecorderName): string;
  summary(): Array<[string, string]>;
}

export interface TopologyModule {
  readonly DEFAULT_PORTS: Readonly<Ports>;
  readonly ZONE_PROXY_NAME: string;
  readonly BROKER_FQDN: string;
  readonly SERVERS: readonly ServerName[];
  readonly RECORDERS: readonly RecorderName[];
  readonly Topology: new (opts: TopologyOptions) => Topology;
  recorderSamples(): Record<RecorderName, string>;
  allocatePorts(mode: 'default' | 'ephemeral'): Promise<Ports>;
  run(cmd: string, args: readonly string[], opts?: { cwd?: string; env?: Record<string, string>; timeoutMs?: number }): Promise<RunResult>;
  recorderConnectCommand(topology: Topology, name: RecorderName): { command: string; args: string[]; env: Record<string, string> };
}

export const TOPOLOGY_MODULE = join(workspaceRoot, 'tools', 'dev', 'topology.mjs');

/** Loads tools/dev/topology.mjs. */
export async function loadTopology(): Promise<TopologyModule> {
  return (await import(pathToFileURL(TOPOLOGY_MODULE).href)) as TopologyModule;
}
