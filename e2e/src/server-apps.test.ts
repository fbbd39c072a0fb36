// Every server app, run as a real process: health and reflection answered to an independent
// gRPC implementation (Debian's python3-grpcio), --help, bad config, and a clean SIGTERM.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { makeTempDir, spawnService, type SpawnedService } from '@dc/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CaRef, CERT_AUTHORITY, SERVER_APPS } from './apps';

const PYTHON = '/usr/bin/python3';
const CLIENT = join(__dirname, 'grpc_interop.py');

function python(args: string[]): Record<string, unknown> {
  const r = spawnSync(PYTHON, [CLIENT, ...args], { encoding: 'utf8', timeout: 20_000 });
  if (r.status !== 0) throw new Error(`grpc_interop.py ${args.join(' ')} failed (${r.status}): ${r.stderr}${r.stdout}`);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

describe.each(SERVER_APPS)('$name', (app) => {
  const tmp = makeTempDir(`dc-e2e-${app.name}-`);
  const caTmp = makeTempDir('dc-e2e-ca-');
  let svc: SpawnedService;
  let caSvc: SpawnedService | undefined;
  let ca: CaRef | undefined;
  const env = () => app.env(tmp.dir, ca);
  beforeAll(async () => {
    if (app.needsCa) {
      caSvc = await spawnService({ entry: CERT_AUTHORITY.entry, env: CERT_AUTHORITY.env(caTmp.dir) });
      ca = { port: caSvc.ports.grpc!, dir: caTmp.dir };
    }
    svc = await spawnService({ entry: app.entry, env: env() });
  }, 60_000);
  afterAll(async () => {
    await svc?.stop('SIGKILL');
    await caSvc?.stop('SIGKILL');
    tmp.remove();
    caTmp.remove();
  });

  it('answers grpc.health.v1 Check with SERVING on every gRPC port, to the Python client', () => {
    for (const port of app.grpcPorts) {
      const tls = port.tlsArgs?.(tmp.dir, ca) ?? [];
      const address = `127.0.0.1:${svc.ports[port.name]}`;
      expect(svc.ports[port.name], `port ${port.name}`).toBeGreaterThan(0);
      expect(python([address, 'health', ...tls])).toEqual({ status: 'SERVING' });
      for (const service of port.services) {
        expect(python([address, 'health', service, ...tls])).toEqual({ status: 'SERVING' });
      }
    }
  });

  it('lists its services through server reflection, to the Python client', () => {
    for (const port of app.grpcPorts) {
      const address = `127.0.0.1:${svc.ports[port.name]}`;
      const listing = python([address, 'reflection', ...(port.tlsArgs?.(tmp.dir, ca) ?? [])]) as { services: string[]; methods: Record<string, string[]> };
      expect(listing.services).toContain('grpc.health.v1.Health');
      for (const service of port.services) {
        expect(listing.services).toContain(service);
        expect(listing.methods[service]?.length, `${service} methods`).toBeGreaterThan(0);
      }
    }
  });

  it('serves Prometheus metrics', async () => {
    const text = await (await fetch(`http://127.0.0.1:${svc.ports.metrics}/metrics`)).text();
    expect(text).toContain('dc_process_cpu_user_seconds_total');
  });

  it('exits 0 on SIGTERM after a graceful shutdown', async () => {
    const other = makeTempDir();
    try {
      const s = await spawnService({ entry: app.entry, env: app.env(other.dir, ca) });
      expect(await s.stop('SIGTERM')).toBe(0);
      expect(s.logs.map((l) => l.msg)).toContain('service stopped');
    } finally {
      other.remove();
    }
  });

  it('prints --help and exits 0', () => {
    const r = spawnSync(process.execPath, [app.entry, '--help'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/Usage: /);
    expect(r.stdout).toContain('--config <file>');
  });

  it('stops at start with a one-line error naming a malformed config key', () => {
    const envKey = app.portEnv;
    const r = spawnSync(process.execPath, [app.entry], { encoding: 'utf8', env: { ...process.env, ...env(), [envKey]: 'not-a-port' }, timeout: 20_000 });
    expect(r.status).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^${app.name}: config key "[\\w.]+" \\(env ${envKey}\\): .*\\(got "not-a-port"\\)$`));
  });
});
