// dcctl against a real module server (and the real cert-authority it needs), both spawned as
// processes: endpoints, sessions, test connection, events, alerts, support package, info, and
// the exit codes for a refused token (4), a missing permission (4) and a refused request (1).
import { readFileSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { distEntry, makeTempDir, spawnService, type SpawnedService } from '@dc/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dcctl } from './testing/run-dcctl';

const ADMIN = 'dcctl-test-admin-token-0001';
const READER = 'dcctl-test-reader-token-0001';

describe('dcctl against a real module server', () => {
  const tmp = makeTempDir('dcctl-ms-');
  let ca: SpawnedService;
  let ms: SpawnedService;
  let env: Record<string, string>;
  let api: string;

  beforeAll(async () => {
    const caDir = join(tmp.dir, 'ca');
    ca = await spawnService({ entry: distEntry('apps/cert-authority'), env: { DC_CA_DATA_DIR: caDir, DC_CA_GRPC__PORT: '0', DC_CA_METRICS__PORT: '0' } });
    ms = await spawnService({
      entry: distEntry('apps/module-server'),
      env: {
        DC_MODULE_SERVER_DATA_DIR: join(tmp.dir, 'ms'),
        DC_MODULE_SERVER_API__PORT: '0',
        DC_MODULE_SERVER_GATEWAY__PORT: '0',
        DC_MODULE_SERVER_METRICS__PORT: '0',
        DC_MODULE_SERVER_CA__ADDRESS: `127.0.0.1:${ca.ports.grpc}`,
        DC_MODULE_SERVER_CA__CA_FILE: join(caDir, 'trust-bundle.pem'),
        DC_MODULE_SERVER_CA__CERT_FILE: join(caDir, 'credentials', 'module-server.cert.pem'),
        DC_MODULE_SERVER_CA__KEY_FILE: join(caDir, 'credentials', 'module-server.key.pem'),
        DC_MODULE_SERVER_DEV_TOKENS: JSON.stringify({ [ADMIN]: 'ADMINISTRATOR', [READER]: 'READ_ONLY_USER' }),
      },
    });
    api = `127.0.0.1:${ms.ports.api}`;
    env = { DCCTL_CONFIG: join(tmp.dir, 'dcctl.json'), DCCTL_TOKEN: ADMIN };
  }, 60_000);

  afterAll(async () => {
    await ms?.stop('SIGKILL');
    await ca?.stop('SIGKILL');
    tmp.remove();
  });

  const run = (args: string[], extraEnv: Record<string, string> = {}) => dcctl(['--api', api, ...args], { env: { ...env, ...extraEnv } });

  it('shows the installed version and ports (info)', async () => {
    const r = await run(['info']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^version: +\d+\.\d+\.\d+/m);
    expect(r.stdout).toMatch(/^gateway port: +17475$/m);
    const j = (await run(['info', '--json'])).json<{ version: string; gatewayPort: number }>();
    expect(j.gatewayPort).toBe(17475);
  });

  it('lists endpoints and sessions as tables, and as JSON with --json', async () => {
    const e = await run(['endpoints', 'list', '--status', 'online,offline']);
    expect(e.code).toBe(0);
    expect(e.stdout).toBe('no endpoints match\n');
    expect((await run(['--json', 'endpoints', 'list'])).json()).toEqual({ endpoints: [], totalSize: 0 });
    const s = await run(['sessions', 'list']);
    expect(s.code).toBe(0);
    expect((await run(['--json', 'sessions', 'list'])).json()).toEqual({ sessions: [] });
    expect((await run(['--json', 'events', 'list'])).json()).toEqual({ events: [], nextPageToken: '' });
    expect((await run(['--json', 'alerts', 'list'])).json()).toEqual({ alerts: [], nextPageToken: '' });
  });

  it('diagnoses an unknown endpoint with the broken step and next steps, exit 1 (SPEC 1.6)', async () => {
    const r = await run(['test-connection', 'web-01.example.com']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('NOT REACHABLE: unknown-endpoint');
    expect(r.stdout).toContain('next steps:');
    const j = (await run(['--json', 'test-connection', '10.9.8.7'])).json<{ diagnosis: { step: string } }>();
    expect(j.diagnosis.step).toBe('DIAGNOSIS_STEP_UNKNOWN_ENDPOINT');
  });

  it('passes the server\'s refusal through with exit 1 (opening a session to an unknown endpoint)', async () => {
    const r = await run(['sessions', 'open', 'web-01', '--module', 'reveal']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('web-01');
    expect(r.stderr).toContain('hint:');
  });

  it('exits 4 for a refused token and for a missing permission, naming the permission', async () => {
    const bad = await run(['endpoints', 'list'], { DCCTL_TOKEN: 'not-a-real-token-at-all' });
    expect(bad.code).toBe(4);
    expect(bad.stderr).toContain('dcctl login');
    const reader = await run(['test-connection', 'web-01'], { DCCTL_TOKEN: READER });
    expect(reader.code).toBe(4);
    expect(reader.stderr).toContain('SESSION_WRITE');
  });

  it('downloads a support package atomically and prints its path (SPEC 1.7.1)', async () => {
    const out = join(tmp.dir, 'support');
    const r = await run(['support', 'download', '--out', out]);
    expect(r.code).toBe(0);
    const path = r.stdout.trim();
    expect(path.startsWith(out)).toBe(true);
    expect(path.endsWith('.zip')).toBe(true);
    const zip = readFileSync(path);
    expect(zip.subarray(0, 2).toString('latin1')).toBe('PK');
    expect(statSync(path).size).toBe(zip.length);
    expect(r.stderr).toContain(createHash('sha256').update(zip).digest('hex'));
    expect(r.stderr).toMatch(/: 100%/);
    const j = await run(['--json', 'support', 'download', '--out', out]);
    expect(j.json<{ sizeBytes: number }>().sizeBytes).toBeGreaterThan(0);
  });

  it('reports an operation the server does not implement yet clearly (exit 1, UNIMPLEMENTED)', async () => {
    const r = await run(['uninstall', '--dry-run']);
    if (r.code === 0) {
      expect(r.stdout).toContain('uninstall plan');
    } else {
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('does not implement dc.moduleserver.v1.AdminService/Uninstall (UNIMPLEMENTED)');
    }
  });
});
