// The Direct Connect topology on one machine: cert-authority → settings → module-server →
// zone-proxy → two endpoint recorders (one direct to the broker, one behind the zone proxy), each
// app a real process on 127.0.0.1 with its data under <dataRoot>/<app>. Used by `npm start`
// (tools/dev/start.mjs, the documented ports) and by e2e/src/topology.test.ts (free ports), so the
// two cannot drift. First-run bootstrap goes through the real APIs (dcctl, settings gRPC) and is
// skipped when already done, so a second run reuses the data.
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync, openSync, fsyncSync, closeSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { inflateRawSync } from 'node:zlib';

export const workspaceRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(import.meta.url);

/** The documented ports (README "Ports"). */
export const DEFAULT_PORTS = Object.freeze({
  ca: 17482,
  caMetrics: 9482,
  settings: 17481,
  settingsMetrics: 9481,
  api: 17480,
  gateway: 17475,
  moduleServerMetrics: 9480,
  zoneEndpointInbound: 17486,
  zoneModuleServerInbound: 17487,
  zoneProvisioning: 17488,
  zoneMetrics: 9486,
});

export const ZONE_PROXY_NAME = 'zone-proxy';
/** The name in the bootstrap service credential settings serves TLS with (CN/SAN "settings"). */
const SETTINGS_TLS_NAME = 'settings';
/** The FQDN endpoints use (SPEC 1.4.4). Settings refuses the single-label "localhost" (at least two labels or an IP), so loopback's IP; it is in the gateway certificate. */
export const BROKER_FQDN = '127.0.0.1';

/** Audit samples the two recorders replay: ../shared corpora when present, else our own small sample. */
export function recorderSamples() {
  const shared = resolve(workspaceRoot, '..', 'shared', 'corpora');
  const own = join(workspaceRoot, 'tools', 'dev', 'samples');
  const pick = (sharedRel, ownName) => (existsSync(join(shared, sharedRel)) ? join(shared, sharedRel) : join(own, ownName));
  return {
    'recorder-direct': pick('laurel/shell-proc-trace.txt', 'shell-pipeline.log'),
    'recorder-zone': pick('hub/auditd-postexploit-rm.log', 'postexploit-rm.log'),
  };
}

/** A port nobody listens on right now (the OS's choice), for tests. */
export function freePort() {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => res(port));
    });
  });
}

/** Whether 127.0.0.1:port is free to listen on now. */
function portFree(port) {
  return new Promise((res) => {
    const srv = createServer();
    srv.once('error', () => res(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => res(true)));
  });
}

/**
 * Free ports for every listener (distinct), or the documented defaults. The zone proxy's
 * provisioning port stays 17488 even then: the module server always dials the Module Server
 * Target Hostname on 17488 (SPEC 1.2; a zone proxy record has no provisioning port).
 */
export async function allocatePorts(mode) {
  if (mode === 'default') return { ...DEFAULT_PORTS };
  const out = { zoneProvisioning: DEFAULT_PORTS.zoneProvisioning };
  if (!(await portFree(out.zoneProvisioning))) {
    throw new Error(`port ${out.zoneProvisioning} (zone proxy provisioning, which the module server always dials) is in use on 127.0.0.1: stop what holds it (another npm start?)`);
  }
  const taken = new Set([out.zoneProvisioning]);
  for (const key of Object.keys(DEFAULT_PORTS)) {
    if (key in out) continue;
    let p;
    do p = await freePort();
    while (taken.has(p));
    taken.add(p);
    out[key] = p;
  }
  return out;
}

const entry = (project) => join(workspaceRoot, project, 'dist', 'main.cjs');

function writeSecret(path, text) {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, text, { mode: 0o600 });
  const fd = openSync(tmp, 'r');
  fsyncSync(fd);
  closeSync(fd);
  renameSync(tmp, path);
}

/** Runs a command to completion; resolves { code, stdout, stderr }. */
export function run(cmd, args, opts = {}) {
  return new Promise((res, rej) => {
    const child = spawn(cmd, args, { cwd: opts.cwd ?? workspaceRoot, env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b) => (stdout += b));
    child.stderr.on('data', (b) => (stderr += b));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.once('error', rej);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      res({ code: code ?? (signal ? 128 : -1), signal, stdout, stderr });
    });
  });
}

/** Polls check() until it returns something other than undefined/false, or throws after timeoutMs. */
export async function pollUntil(check, { timeoutMs = 30_000, intervalMs = 200, what = 'a condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${last.message})` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/**
 * One app process: spawned with its environment, stdout (JSON log lines) kept in memory and
 * appended to <dataRoot>/logs/<name>.log, resolved when it logs `service started`.
 */
class AppProcess {
  constructor(name, spec, topology) {
    this.name = name;
    this.spec = spec;
    this.topology = topology;
    this.logs = [];
    this.stderr = [];
    this.child = undefined;
    this.ports = {};
    this.exited = undefined;
  }

  get running() {
    return this.child !== undefined && this.exited === undefined;
  }

  start() {
    const { command, args, env } = this.spec();
    const logFile = createWriteStream(join(this.topology.logDir, `${this.name}.log`), { flags: 'a', mode: 0o600 });
    // Its own process group: a terminal's Ctrl-C reaches only the runner, which stops the apps in order.
    const child = spawn(command, args, { cwd: workspaceRoot, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    this.child = child;
    this.exited = undefined;
    const startedAt = this.logs.length;
    const exitPromise = new Promise((res) =>
      child.once('exit', (code, signal) => {
        this.exited = { code, signal };
        logFile.end();
        res(code ?? signal);
        this.topology.onExit(this, code, signal);
      }),
    );
    this.exitPromise = exitPromise;
    createInterface({ input: child.stdout }).on('line', (line) => {
      logFile.write(`${line}\n`);
      let rec;
      try {
        rec = JSON.parse(line);
      } catch {
        rec = { msg: line, raw: true };
      }
      this.logs.push(rec);
      if (this.logs.length > 5000) this.logs.splice(0, 1000);
      this.topology.onLog(this, rec);
    });
    createInterface({ input: child.stderr }).on('line', (line) => {
      logFile.write(`${line}\n`);
      this.stderr.push(line);
      this.topology.onStderr(this, line);
    });
    return pollUntil(
      () => {
        const started = this.logs.slice(Math.max(0, startedAt - 1000)).find((l) => l.msg === 'service started' && l !== this.lastStarted);
        if (started) {
          this.lastStarted = started;
          this.ports = started.ports ?? {};
          return this.ports;
        }
        if (this.exited) throw new Error(`${this.name} exited (${this.exited.code ?? this.exited.signal}) before it started: ${this.stderr.slice(-5).join(' | ')}`);
        return undefined;
      },
      { timeoutMs: this.topology.startTimeoutMs, intervalMs: 50, what: `${this.name} to log "service started"` },
    ).catch((err) => {
      child.kill('SIGKILL');
      throw err;
    });
  }

  /** Sends the signal and resolves with the exit code (or signal name); SIGKILL after graceMs. */
  stop(signal = 'SIGTERM', graceMs = 15_000) {
    if (!this.running) return Promise.resolve(this.exited ? this.exited.code ?? this.exited.signal : 0);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    this.child.kill(signal);
    return this.exitPromise.finally(() => clearTimeout(timer));
  }
}

/**
 * The whole system. `new Topology({ dataRoot, ports })`, then `await start()`; `stop()` stops
 * every process in reverse order; `kill(name)` / `restart(name)` for fault tests.
 */
export class Topology {
  /** Options and types: topology.d.mts. */
  constructor(opts) {
    this.setupMode = opts.setupMode ?? 'default';
    this.dataRoot = resolve(opts.dataRoot);
    this.ports = opts.ports;
    this.onLine = opts.onLine ?? (() => {});
    this.onUnexpectedExit = opts.onUnexpectedExit ?? (() => {});
    this.startTimeoutMs = opts.startTimeoutMs ?? 60_000;
    this.zoneConnectTimeoutMs = opts.zoneConnectTimeoutMs ?? 30_000;
    /** dcctl heartbeat set options applied at every start, before the recorders connect (tests: a short interval). */
    this.heartbeatArgs = opts.heartbeat ?? [];
    this.withRecorders = opts.recorders ?? true;
    this.logDir = join(this.dataRoot, 'logs');
    this.apps = new Map();
    this.stopping = false;
    this.expectedExit = new Set();
    /** Bootstrap steps done in this run (for the summary and tests): name -> 'done' | 'already done'. */
    this.bootstrap = {};
    this.recorderReplays = {};
    /** The endpoint configuration each recorder was given (as installed). */
    this.packages = {};
  }

  dir(app) {
    return join(this.dataRoot, app);
  }

  get caDir() {
    return this.dir('cert-authority');
  }
  get trustBundle() {
    return join(this.caDir, 'trust-bundle.pem');
  }
  get adminTokenFile() {
    return join(this.dir('settings'), 'admin.token');
  }
  adminToken() {
    return readFileSync(this.adminTokenFile, 'utf8').trim();
  }
  get provisionFile() {
    return join(this.dir('zone-proxy'), 'settings', 'PROVISION.txt');
  }
  address(key) {
    return `127.0.0.1:${this.ports[key]}`;
  }

  /** Each app's command line and environment (DC_<APP>_<KEY>; the CA's prefix is DC_CA_). */
  specs() {
    const p = this.ports;
    const cred = (name, ext) => join(this.caDir, 'credentials', `${name}.${ext}.pem`);
    const node = (project, env, args = []) => () => ({ command: process.execPath, args: [entry(project), ...args], env });
    const specs = {
      'cert-authority': node('apps/cert-authority', {
        DC_CA_DATA_DIR: this.caDir,
        DC_CA_GRPC__HOST: '127.0.0.1',
        DC_CA_GRPC__PORT: String(p.ca),
        DC_CA_METRICS__HOST: '127.0.0.1',
        DC_CA_METRICS__PORT: String(p.caMetrics),
        // Bearer tokens (dcctl) are checked with settings CheckPermission; settings' certificate names "settings".
        DC_CA_SETTINGS__ADDRESS: this.address('settings'),
        DC_CA_SETTINGS__SERVER_NAME: SETTINGS_TLS_NAME,
      }),
      settings: node('apps/settings', {
        DC_SETTINGS_DATA_DIR: this.dir('settings'),
        DC_SETTINGS_GRPC__HOST: '127.0.0.1',
        DC_SETTINGS_GRPC__PORT: String(p.settings),
        DC_SETTINGS_METRICS__HOST: '127.0.0.1',
        DC_SETTINGS_METRICS__PORT: String(p.settingsMetrics),
        DC_SETTINGS_TLS__CERT_FILE: cred('settings', 'cert'),
        DC_SETTINGS_TLS__KEY_FILE: cred('settings', 'key'),
        DC_SETTINGS_CA__ADDRESS: this.address('ca'),
        DC_SETTINGS_CA__SERVER_NAME: 'localhost',
        DC_SETTINGS_CA__TRUST_BUNDLE_FILE: this.trustBundle,
        DC_SETTINGS_CA__CERT_FILE: cred('settings', 'cert'),
        DC_SETTINGS_CA__KEY_FILE: cred('settings', 'key'),
        DC_SETTINGS_SETUP__MODE: this.setupMode ?? 'default',
      }),
      'module-server': node('apps/module-server', {
        DC_MODULE_SERVER_DATA_DIR: this.dir('module-server'),
        DC_MODULE_SERVER_API__HOST: '127.0.0.1',
        DC_MODULE_SERVER_API__PORT: String(p.api),
        DC_MODULE_SERVER_GATEWAY__HOST: '127.0.0.1',
        DC_MODULE_SERVER_GATEWAY__PORT: String(p.gateway),
        DC_MODULE_SERVER_METRICS__HOST: '127.0.0.1',
        DC_MODULE_SERVER_METRICS__PORT: String(p.moduleServerMetrics),
        DC_MODULE_SERVER_SERVER_NAMES: JSON.stringify(['localhost', '127.0.0.1']),
        DC_MODULE_SERVER_CA__ADDRESS: this.address('ca'),
        DC_MODULE_SERVER_CA__SERVER_NAME: 'localhost',
        DC_MODULE_SERVER_CA__CA_FILE: this.trustBundle,
        DC_MODULE_SERVER_CA__CERT_FILE: cred('module-server', 'cert'),
        DC_MODULE_SERVER_CA__KEY_FILE: cred('module-server', 'key'),
        DC_MODULE_SERVER_SETTINGS__ADDRESS: this.address('settings'),
        DC_MODULE_SERVER_SETTINGS__SERVER_NAME: SETTINGS_TLS_NAME,
        DC_MODULE_SERVER_SETTINGS__CA_FILE: this.trustBundle,
        DC_MODULE_SERVER_SETTINGS__TOKEN_FILE: join(this.dir('settings'), 'service-account.token'),
      }),
      'zone-proxy': node('apps/zone-proxy', {
        DC_ZONE_PROXY_INSTALL_DIR: this.dir('zone-proxy'),
        DC_ZONE_PROXY_ENDPOINT_INBOUND__HOST: '127.0.0.1',
        DC_ZONE_PROXY_ENDPOINT_INBOUND__PORT: String(p.zoneEndpointInbound),
        DC_ZONE_PROXY_MODULE_SERVER_INBOUND__HOST: '127.0.0.1',
        DC_ZONE_PROXY_MODULE_SERVER_INBOUND__PORT: String(p.zoneModuleServerInbound),
        DC_ZONE_PROXY_PROVISIONING__HOST: '127.0.0.1',
        DC_ZONE_PROXY_PROVISIONING__PORT: String(p.zoneProvisioning),
        DC_ZONE_PROXY_METRICS__HOST: '127.0.0.1',
        DC_ZONE_PROXY_METRICS__PORT: String(p.zoneMetrics),
      }),
    };
    for (const name of RECORDERS) specs[name] = () => recorderConnectCommand(this, name);
    return specs;
  }

  onLog(app, rec) {
    this.onLine(app.name, rec, false);
  }
  onStderr(app, line) {
    this.onLine(app.name, { level: 'error', msg: line, raw: true }, true);
  }
  onExit(app, code, signal) {
    if (this.stopping || this.expectedExit.has(app.name)) return;
    this.onUnexpectedExit(app.name, code, signal);
  }

  app(name) {
    const a = this.apps.get(name);
    if (!a) throw new Error(`no app ${name} in the topology`);
    return a;
  }

  async startApp(name) {
    let a = this.apps.get(name);
    if (!a) {
      a = new AppProcess(name, this.specs()[name], this);
      this.apps.set(name, a);
    }
    this.expectedExit.delete(name);
    return a.start();
  }

  /** Starts everything in order and runs the first-run bootstrap (each step skipped when already done). */
  async start() {
    for (const d of [this.dataRoot, this.logDir]) mkdirSync(d, { recursive: true, mode: 0o700 });
    for (const project of new Set([...Object.values(PROJECT), 'tools/dcctl'])) {
      if (!existsSync(entry(project))) throw new Error(`${project} is not built (dist/main.cjs missing): run "npm ci" or "npm run build" first`);
    }
    for (const name of ['cert-authority', 'settings']) {
      mkdirSync(this.dir(name), { recursive: true, mode: 0o700 });
      await this.startApp(name);
    }
    mkdirSync(this.dir('module-server'), { recursive: true, mode: 0o700 });
    await this.startApp('module-server');
    await this.installZoneProxy();
    await this.startApp('zone-proxy');
    await this.configure();
    if (this.withRecorders) {
      for (const name of RECORDERS) {
        await this.replaySample(name);
        await this.installPackage(name);
        await this.startApp(name);
      }
    }
  }

  /** `zone-proxy install` once (SPEC 1.4.6): the provision payload in settings/PROVISION.txt. */
  async installZoneProxy() {
    if (existsSync(this.provisionFile)) {
      this.bootstrap['zone proxy installed'] = 'already done';
      return;
    }
    mkdirSync(this.dir('zone-proxy'), { recursive: true, mode: 0o700 });
    const r = await run(process.execPath, [entry('apps/zone-proxy'), 'install', '--name', ZONE_PROXY_NAME, '--json'], { env: { DC_ZONE_PROXY_INSTALL_DIR: this.dir('zone-proxy') } });
    if (r.code !== 0) throw new Error(`zone-proxy install failed (${r.code}): ${r.stderr}`);
    this.bootstrap['zone proxy installed'] = 'done';
  }

  /** dcctl with the bootstrap administrator token, settings over TLS checked against the CA's trust bundle. */
  dcctl(args, opts = {}) {
    const env = { DCCTL_CONFIG: join(this.dataRoot, 'dcctl.json'), DCCTL_TOKEN: opts.token ?? this.adminToken() };
    return run(process.execPath, [entry('tools/dcctl'), ...this.dcctlGlobalArgs(), ...args], { env, timeoutMs: opts.timeoutMs ?? 30_000 });
  }

  /** The global dcctl options that reach this topology (what `npm start` prints for the operator too). */
  dcctlGlobalArgs() {
    return [
      '--api', this.address('api'),
      '--settings', this.address('settings'),
      '--ca', this.address('ca'),
      '--ca-file', this.trustBundle,
      tlsServicesFlag(), 'settings',
      '--tls-server-name', SETTINGS_TLS_NAME,
    ];
  }

  async dcctlJson(args, opts) {
    const r = await this.dcctl(['--json', ...args], opts);
    if (r.code !== 0) throw new Error(`dcctl ${args.join(' ')} failed (${r.code}): ${(r.stderr + r.stdout).trim()}`);
    return JSON.parse(r.stdout);
  }

  /**
   * First-run configuration through dcctl: the heartbeat policy (when asked), the zone proxy
   * record, then the FQDN — so the content build that saving it starts already carries the zone
   * route — and waits for the build, and for the module server to link the zone proxy.
   */
  async configure() {
    if (this.heartbeatArgs.length > 0) await this.dcctlJson(['heartbeat', 'set', ...this.heartbeatArgs]);

    const list = await this.dcctlJson(['zone-proxies', 'list']);
    const existing = (list.zoneProxies ?? []).find((z) => z.name === ZONE_PROXY_NAME);
    if (!existing) {
      await this.dcctlJson([
        'zone-proxies', 'add',
        '--name', ZONE_PROXY_NAME,
        '--provision-file', this.provisionFile,
        '--endpoint-target-hostname', '127.0.0.1',
        '--endpoint-inbound-ip', '127.0.0.1',
        '--endpoint-inbound-port', String(this.ports.zoneEndpointInbound),
        '--module-server-target-hostname', '127.0.0.1',
        '--module-server-inbound-ip', '127.0.0.1',
        '--module-server-inbound-port', String(this.ports.zoneModuleServerInbound),
      ]);
      this.bootstrap['zone proxy added'] = 'done';
    } else this.bootstrap['zone proxy added'] = 'already done';

    const conn = await this.dcctlJson(['connection', 'show']);
    const fqdn = conn.settings?.fqdn ?? conn.fqdn ?? '';
    if (!fqdn) {
      await this.dcctlJson(['connection', 'set', '--fqdn', BROKER_FQDN]);
      this.bootstrap['connection settings (FQDN 127.0.0.1)'] = 'done';
    } else this.bootstrap['connection settings (FQDN 127.0.0.1)'] = 'already done';
    await pollUntil(
      async () => {
        const b = (await this.dcctlJson(['connection', 'show'])).latestBuild;
        if (b?.state === 'CONTENT_BUILD_STATE_FAILED') throw new Error(`content build failed: ${b.error}`);
        return b?.state === 'CONTENT_BUILD_STATE_SUCCEEDED' ? b : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 300, what: 'the content build to succeed' },
    );

    // The module server provisions and links the proxy on its own; the zone recorder keeps
    // redialling until then, so a slow link does not stop the start.
    try {
      await this.waitZoneProxyConnected(this.zoneConnectTimeoutMs);
      this.zoneProxyConnected = true;
    } catch {
      this.zoneProxyConnected = false;
    }
  }

  async zoneProxyStatus() {
    const list = await this.dcctlJson(['zone-proxies', 'list']);
    const z = (list.zoneProxies ?? []).find((x) => x.name === ZONE_PROXY_NAME);
    return z?.state?.status ?? z?.status ?? 'missing';
  }

  waitZoneProxyConnected(timeoutMs = 60_000) {
    return pollUntil(async () => (await this.zoneProxyStatus()) === 'ZONE_PROXY_STATUS_CONNECTED', { timeoutMs, intervalMs: 300, what: 'the zone proxy to be Connected' });
  }

  /** Replays the recorder's sample into its monitor.db once (a marker file records it). */
  async replaySample(name) {
    const dir = this.dir(name);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const marker = join(dir, 'replayed.json');
    if (existsSync(marker)) {
      this.recorderReplays[name] = { ...JSON.parse(readFileSync(marker, 'utf8')), now: 'already replayed' };
      return;
    }
    const sample = recorderSamples()[name];
    const r = await run(process.execPath, [entry('apps/endpoint-recorder'), 'replay', sample, '--config', dir, '--json'], { timeoutMs: 120_000 });
    if (r.code !== 0) throw new Error(`${name}: recorder replay ${sample} failed (${r.code}): ${r.stderr.trim()}`);
    const summary = { sample, result: JSON.parse(r.stdout) };
    writeFileSync(marker, `${JSON.stringify(summary, null, 2)}\n`);
    this.recorderReplays[name] = { ...summary, now: 'replayed' };
  }

  /**
   * Installs the Linux endpoint package (settings GetEndpointPackage, the latest build) into the
   * recorder's tools directory as configuration.json (mode 0600: it holds the enrolment token),
   * at every start so it follows the latest content build. Two local adjustments stand for what
   * the network would do: with free ports the broker port is the gateway's real one (packages
   * always say 17475), and recorder-zone, the endpoint "behind the zone proxy", cannot use the
   * direct route (directRouteDisabled), so it connects through the package's zone route.
   */
  async installPackage(name) {
    const dir = this.dir(name);
    const pkg = await getEndpointPackage(this);
    const files = readZip(Buffer.from(pkg.content));
    const file = files.find((f) => f.name === 'configuration.json');
    if (!file) throw new Error(`the Linux endpoint package holds no configuration.json (files: ${files.map((f) => f.name).join(', ')})`);
    const configuration = JSON.parse(file.data.toString('utf8'));
    if (this.ports.gateway !== DEFAULT_PORTS.gateway) configuration.brokerPort = this.ports.gateway;
    if (name === 'recorder-zone') {
      if (!(configuration.zoneRoutes ?? []).length) throw new Error('the Linux endpoint package lists no zone route (is the zone proxy record in the latest content build?)');
      configuration.directRouteDisabled = true;
    }
    writeSecret(join(dir, 'configuration.json'), `${JSON.stringify(configuration, null, 2)}\n`);
    this.packages[name] = configuration;
  }

  /** The address each recorder dials: the broker's gateway, or the zone proxy's endpoint inbound. */
  recorderRoute(name) {
    const c = this.packages[name];
    const zone = c?.zoneRoutes?.[0];
    if (name === 'recorder-zone') return zone ? `${zone.host}:${zone.port}` : this.address('zoneEndpointInbound');
    return c ? `${c.brokerHost}:${c.brokerPort || DEFAULT_PORTS.gateway}` : this.address('gateway');
  }

  /** Stops one app (not reported as an unexpected exit); resolves with its exit code or signal. */
  async stopApp(name, signal = 'SIGTERM') {
    this.expectedExit.add(name);
    return this.app(name).stop(signal);
  }

  /** SIGKILL: a crash, for the fault tests. */
  async kill(name) {
    return this.stopApp(name, 'SIGKILL');
  }

  async restart(name) {
    return this.startApp(name);
  }

  /** Last resort when the runner itself exits: SIGKILL whatever is still running (synchronous). */
  killAllNow() {
    for (const a of this.apps.values()) if (a.running) a.child.kill('SIGKILL');
  }

  /** Stops every process, recorders first, the CA last (SIGTERM, SIGKILL after the grace time). */
  async stop() {
    this.stopping = true;
    const codes = {};
    const stopOne = async (name) => {
      const a = this.apps.get(name);
      if (a?.running) codes[name] = await a.stop('SIGTERM');
    };
    await Promise.all(RECORDERS.map(stopOne)); // the endpoints together, then the servers in reverse start order
    for (const name of SERVERS.slice().reverse()) await stopOne(name);
    return Object.fromEntries([...RECORDERS, ...SERVERS.slice().reverse()].filter((n) => n in codes).map((n) => [n, codes[n]]));
  }

  /** Lines for the operator: every listener and where the data is. */
  summary() {
    const p = this.ports;
    return [
      ['cert-authority', `grpc ${p.ca} (TLS), metrics ${p.caMetrics}`],
      ['settings', `grpc ${p.settings} (TLS, name "settings"), metrics ${p.settingsMetrics}`],
      ['module-server', `gateway ${p.gateway} (mTLS), api ${p.api}, metrics ${p.moduleServerMetrics}`],
      ['zone-proxy', `endpoints ${p.zoneEndpointInbound}, module server ${p.zoneModuleServerInbound}, provisioning ${p.zoneProvisioning}, metrics ${p.zoneMetrics}`],
      ...(this.withRecorders ? RECORDERS.map((n) => [n, `${n === 'recorder-zone' ? 'via zone proxy' : 'direct'} → ${this.recorderRoute(n)}, replayed ${this.recorderReplays[n]?.sample ?? '?'}`]) : []),
    ];
  }
}

export const SERVERS = ['cert-authority', 'settings', 'module-server', 'zone-proxy'];
export const RECORDERS = ['recorder-direct', 'recorder-zone'];
const PROJECT = {
  'cert-authority': 'apps/cert-authority',
  settings: 'apps/settings',
  'module-server': 'apps/module-server',
  'zone-proxy': 'apps/zone-proxy',
  'recorder-direct': 'apps/endpoint-recorder',
  'recorder-zone': 'apps/endpoint-recorder',
};

let tlsFlag;
/** dcctl's flag for "which services use TLS": renamed --tls → --tls-services while dcctl is being finished. */
function tlsServicesFlag() {
  if (tlsFlag) return tlsFlag;
  const { spawnSync } = require('node:child_process');
  const help = spawnSync(process.execPath, [entry('tools/dcctl'), '--help'], { encoding: 'utf8' }).stdout;
  tlsFlag = help.includes('--tls-services') ? '--tls-services' : '--tls';
  return tlsFlag;
}

/**
 * How an endpoint recorder connects to Direct Connect: `recorder connect` with the package's
 * configuration.json in its tools directory (enrol once with the package's token, control
 * channel on the package's routes, session requests answered from the monitor.db the replay
 * filled). The gateway's certificate names localhost; the zone proxy's, its Endpoint Target
 * Hostname (127.0.0.1, dialled as is).
 */
export function recorderConnectCommand(topology, name) {
  const dir = topology.dir(name);
  return {
    command: process.execPath,
    args: [entry('apps/endpoint-recorder'), 'connect', '--config', dir, '--configuration', join(dir, 'configuration.json'), '--host-name', name, '--server-name', 'localhost'],
    env: {},
  };
}

/** The entries of a ZIP file (stored or deflated): the endpoint package. PKWARE APPNOTE 4.3. */
function readZip(zip) {
  let eocd = -1;
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 22 - 0xffff); i--) {
    if (zip.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error('the endpoint package is not a ZIP file');
  const out = [];
  let at = zip.readUInt32LE(eocd + 16);
  for (let n = zip.readUInt16LE(eocd + 10); n > 0; n--) {
    const method = zip.readUInt16LE(at + 10);
    const size = zip.readUInt32LE(at + 20);
    const nameLength = zip.readUInt16LE(at + 28);
    const local = zip.readUInt32LE(at + 42);
    const name = zip.subarray(at + 46, at + 46 + nameLength).toString('utf8');
    const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    const raw = zip.subarray(start, start + size);
    out.push({ name, data: method === 8 ? inflateRawSync(raw) : raw });
    at += 46 + nameLength + zip.readUInt16LE(at + 30) + zip.readUInt16LE(at + 32);
  }
  return out;
}

/** settings GetEndpointPackage (Linux, latest build) with the administrator's token, over TLS. */
async function getEndpointPackage(topology) {
  const grpc = require('@grpc/grpc-js');
  const loader = require('@grpc/proto-loader');
  const def = loader.loadSync(join(workspaceRoot, 'proto', 'dc', 'settings', 'v1', 'settings.proto'), {
    includeDirs: [join(workspaceRoot, 'proto')],
    keepCase: false,
    longs: Number,
    enums: String,
    defaults: true,
    oneofs: true,
  });
  const pkg = grpc.loadPackageDefinition(def);
  const Client = pkg.dc.settings.v1.ConnectionSettingsService;
  const client = new Client(topology.address('settings'), grpc.credentials.createSsl(readFileSync(topology.trustBundle)), {
    'grpc.ssl_target_name_override': SETTINGS_TLS_NAME,
    'grpc.default_authority': SETTINGS_TLS_NAME,
  });
  const md = new grpc.Metadata();
  md.set('authorization', `Bearer ${topology.adminToken()}`);
  try {
    return await new Promise((res, rej) =>
      client.getEndpointPackage({ os: 'OPERATING_SYSTEM_LINUX', buildId: '' }, md, { deadline: Date.now() + 20_000 }, (err, r) => (err ? rej(err) : res(r))),
    );
  } finally {
    client.close();
  }
}
