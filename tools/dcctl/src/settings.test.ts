// dcctl against a real settings process (spawned from its dist/, first-start admin token):
// login, set-up status, connection settings with the SPEC messages, heartbeat policy, computer
// groups and the action group, zone proxies from a real PROVISION.txt, users and tokens, log
// levels — and the exit codes for a refused value (1), a missing permission (4) and a bad login.
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CONNECTION_SETTINGS_SAVED_MESSAGES } from '@dc/proto';
import { distEntry, makeTempDir, spawnService, type SpawnedService } from '@dc/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dcctl } from './testing/run-dcctl';

describe('dcctl against a real settings service', () => {
  const tmp = makeTempDir('dcctl-settings-');
  const dataDir = join(tmp.dir, 'settings');
  const env = { DCCTL_CONFIG: join(tmp.dir, 'dcctl.json') };
  let settings: SpawnedService;
  let address: string;
  const run = (args: string[], extra: Record<string, string> = {}) => dcctl(args, { env: { ...env, ...extra } });

  beforeAll(async () => {
    settings = await spawnService({ entry: distEntry('apps/settings'), env: { DC_SETTINGS_DATA_DIR: dataDir, DC_SETTINGS_GRPC__PORT: '0', DC_SETTINGS_METRICS__PORT: '0' } });
    address = `127.0.0.1:${settings.ports.grpc}`;
  }, 60_000);

  afterAll(async () => {
    await settings?.stop('SIGKILL');
    tmp.remove();
  });

  it('refuses a bad token at login with exit 4 and saves nothing', async () => {
    const r = await run(['--settings', address, 'login', '--token', '-'], { DCCTL_TOKEN: '' });
    expect(r.code).toBe(2); // empty stdin
    const bad = await dcctl(['--settings', address, 'login', '--token', '-'], { env, stdin: 'dct_nope_nope\n' });
    expect(bad.code).toBe(4);
    expect(bad.stderr).toContain('(not saved)');
    expect(() => statSync(env.DCCTL_CONFIG)).toThrow();
  });

  it('logs in with the first-start admin token: verified, saved 0600 with the address, never printed', async () => {
    const tokenFile = join(dataDir, 'admin.token');
    const token = readFileSync(tokenFile, 'utf8').trim();
    const r = await run(['--settings', address, 'login', '--token-file', tokenFile]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('logged in as admin');
    expect(r.stdout + r.stderr).not.toContain(token);
    expect(statSync(env.DCCTL_CONFIG).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(env.DCCTL_CONFIG, 'utf8'))).toEqual({ token, settings: address });
    const who = (await run(['whoami', '--json'])).json<{ principal: { name: string }; permissions: string[] }>();
    expect(who.principal.name).toBe('admin');
    expect(who.permissions).toContain('PERMISSION_SETTINGS_WRITE');
  });

  it('shows which set-up steps are done and what to do next', async () => {
    const r = await run(['setup', 'status']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^connection settings +NO +FQDN not set$/m);
    expect(r.stdout).toContain('dcctl connection set --fqdn');
    const j = (await run(['--json', 'setup', 'status'])).json<{ complete?: boolean; steps: Array<{ name: string; done?: boolean }> }>();
    expect(j.steps.find((s) => s.name === 'connection settings')?.done ?? false).toBe(false);
  });

  it('refuses a bad FQDN with the server\'s message (exit 1) and saves a good one with the SPEC 1.4.4 messages', async () => {
    const bad = await run(['connection', 'set', '--fqdn', 'exa_mple.com']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('fqdn "exa_mple.com"');
    expect(bad.stderr).toContain('hint:');
    const good = await run(['connection', 'set', '--fqdn', 'dc.example.com', '--skip-resolution-check', '--action-lock', 'allow-new-connections']);
    expect(good.code, good.stderr).toBe(0);
    expect(good.stdout.split('\n').slice(0, 2)).toEqual([...CONNECTION_SETTINGS_SAVED_MESSAGES]);
    const shown = (await run(['--json', 'connection', 'show'])).json<{ settings: { fqdn: string; port: number; actionLockMode: string } }>();
    expect(shown.settings).toMatchObject({ fqdn: 'dc.example.com', port: 17475, actionLockMode: 'ACTION_LOCK_MODE_ALLOW_NEW_CONNECTIONS' });
    const builds = await run(['connection', 'builds']);
    expect(builds.stdout).toContain('connection settings saved by admin');
  });

  it('sets the heartbeat policy, "unlimited" alerts included, and passes range errors through', async () => {
    const r = await run(['heartbeat', 'set', '--interval', '10s', '--alert-after', 'unlimited', '--direction', 'bidirectional']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('alert after:   unlimited (never alert)');
    const j = (await run(['--json', 'heartbeat', 'show'])).json<{ policy: Record<string, unknown> }>();
    expect(j.policy).toMatchObject({ interval: { seconds: 10 }, direction: 'COMMUNICATION_DIRECTION_BIDIRECTIONAL' });
    expect(j.policy.missedHeartbeatsBeforeAlert).toBeUndefined();
    const bad = await run(['heartbeat', 'set', '--offline-after', '5000']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('5000');
  });

  it('creates a computer group, targets the action group at it, and is refused deleting it while targeted', async () => {
    const created = await run(['groups', 'create', '--name', 'linux-web', '--host', 'web-*', '--os', 'linux', '--description', 'web tier']);
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toContain('host web-*; os linux');
    const set = await run(['action-group', 'set', 'computer-group', 'linux-web']);
    expect(set.code, set.stderr).toBe(0);
    const shown = await run(['action-group', 'show']);
    expect(shown.stdout).toMatch(/computer group: +linux-web \(/);
    const refused = await run(['groups', 'delete', 'linux-web']);
    expect(refused.code).toBe(1);
    await run(['action-group', 'set', 'all-computers']);
    expect((await run(['groups', 'delete', 'linux-web'])).code).toBe(0);
    expect((await run(['--json', 'groups', 'list'])).json()).toEqual({ groups: [] });
  });

  it('adds a zone proxy from a real PROVISION.txt with the SPEC fields, lists its status, and deletes it', async () => {
    const installDir = join(tmp.dir, 'zone-proxy');
    const install = spawnSync(process.execPath, [distEntry('apps/zone-proxy'), 'install', '--install-dir', installDir, '--name', 'zp-test'], { encoding: 'utf8' });
    expect(install.status, install.stderr).toBe(0);
    const payload = join(installDir, 'settings', 'PROVISION.txt');
    const fields = ['--endpoint-target-hostname', 'zone.example.com', '--module-server-target-hostname', 'zone.internal', '--module-server-inbound-ip', '10.1.0.5'];
    const badIp = await run(['zone-proxies', 'add', '--name', 'dmz-1', '--provision-file', payload, '--endpoint-inbound-ip', '10.0.0.999', ...fields]);
    expect(badIp.code).toBe(1);
    expect(badIp.stderr).toContain('10.0.0.999');
    const added = await run(['zone-proxies', 'add', '--name', 'dmz-1', '--provision-file', payload, '--endpoint-inbound-ip', '10.0.0.5', ...fields]);
    expect(added.code, added.stderr).toBe(0);
    const list = await run(['zone-proxies', 'list']);
    expect(list.stdout).toMatch(/dmz-1 +provisioning +zone\.example\.com:17486 +zone\.internal:17487/);
    const j = (await run(['--json', 'zone-proxies', 'list'])).json<{ zoneProxies: Array<{ name: string; status: string; endpointInboundPort: number }> }>();
    expect(j.zoneProxies).toEqual([expect.objectContaining({ name: 'dmz-1', status: 'ZONE_PROXY_STATUS_PROVISIONING', endpointInboundPort: 17486 })]);
    expect((await run(['zone-proxies', 'delete', 'dmz-1'])).code).toBe(0);
    expect((await run(['--json', 'zone-proxies', 'list'])).json()).toEqual({ zoneProxies: [] });
  });

  it('creates a user and a token file (0600); that user is refused a settings change with exit 4 naming SETTINGS_WRITE', async () => {
    expect((await run(['users', 'create', 'alice', '--roles', 'user', '--display-name', 'Alice'])).code).toBe(0);
    const tokenFile = join(tmp.dir, 'alice.token');
    const created = await run(['tokens', 'create', 'alice', '--name', 'laptop', '--out', tokenFile]);
    expect(created.code, created.stderr).toBe(0);
    expect(statSync(tokenFile).mode & 0o777).toBe(0o600);
    const alice = readFileSync(tokenFile, 'utf8').trim();
    expect(created.stdout).not.toContain(alice);
    const denied = await run(['heartbeat', 'set', '--interval', '20s'], { DCCTL_TOKEN: alice });
    expect(denied.code).toBe(4);
    expect(denied.stderr).toContain('SETTINGS_WRITE');
    const roles = await run(['roles']);
    expect(roles.stdout).toMatch(/^read-only-user +show-direct-connect, session-read, settings-read$/m);
  });

  it('sets and shows a component\'s log level (SPEC 1.7.2)', async () => {
    expect((await run(['log-level', 'set', 'debug', '--component', 'zone-proxy'])).code).toBe(0);
    const j = (await run(['--json', 'log-level', 'show', '--component', 'zone-proxy'])).json<{ levels: Array<{ component: string; level: string }> }>();
    expect(j.levels).toEqual([{ component: 'COMPONENT_ZONE_PROXY', level: 'LOG_LEVEL_DEBUG' }]);
    const bad = await run(['log-level', 'set', 'loud']);
    expect(bad.code).toBe(2);
  });

  it('re-enters the service account, writing its new token to a 0600 file (SPEC 1.4.3)', async () => {
    const out = join(tmp.dir, 'svc.token');
    const r = await run(['service-account', 'set', '--name', 'svc-direct-connect', '--token-out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    const shown = (await run(['--json', 'service-account', 'show'])).json<{ serviceAccount: { name: string; configured: boolean } }>();
    expect(shown.serviceAccount).toMatchObject({ name: 'svc-direct-connect', configured: true });
  });
});
