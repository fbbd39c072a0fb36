// dcctl as a whole: help, usage errors, login storage, exit codes without a server, and the
// health probe against a real cert-authority process.
import { statSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { distEntry, makeTempDir, spawnService, type SpawnedService } from '@dc/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dcctl } from './testing/run-dcctl';

/** A port nobody listens on: bound, then closed. */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

describe('dcctl without servers', () => {
  const tmp = makeTempDir('dcctl-cli-');
  const env = { DCCTL_CONFIG: join(tmp.dir, 'config.json') };
  afterAll(() => tmp.remove());

  it('prints help for the program and for every command group, exit 0', async () => {
    const top = await dcctl(['--help'], { env });
    expect(top.code).toBe(0);
    for (const group of ['login', 'setup', 'connection', 'certificates', 'action-group', 'groups', 'service-account', 'heartbeat', 'zone-proxies', 'endpoints', 'sessions', 'test-connection', 'events', 'alerts', 'recorder', 'support', 'log-level', 'users', 'roles', 'tokens', 'uninstall', 'health']) {
      expect(top.stdout).toContain(`  ${group}`);
      const sub = await dcctl([group, '--help'], { env });
      expect(sub.code, group).toBe(0);
      expect(sub.stdout, group).toContain('Usage: dcctl');
      expect(sub.stdout, group).toContain('--json');
    }
  });

  it('exits 2 on an unknown command or a bad option value', async () => {
    const unknown = await dcctl(['frobnicate'], { env });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown command 'frobnicate'");
    const bad = await dcctl(['endpoints', 'list', '--status', 'sleepy'], { env: { ...env, DCCTL_TOKEN: 't' } });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--status "sleepy": must be one of online, offline, stopped, never-connected, removed');
  });

  it('exits 4 with a login hint when no token is saved', async () => {
    const r = await dcctl(['sessions', 'list'], { env });
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('not logged in');
    expect(r.stderr).toContain('dcctl login --token-file');
  });

  it('exits 3 naming the address when the service cannot be reached', async () => {
    const port = await closedPort();
    const r = await dcctl(['--settings', `127.0.0.1:${port}`, 'heartbeat', 'show'], { env: { ...env, DCCTL_TOKEN: 'dct_x' } });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`cannot reach settings service at 127.0.0.1:${port}`);
    expect(r.stderr).toContain('npm start');
  });

  it('refuses an uninstall without the exact confirmation before asking any server (exit 2)', async () => {
    const none = await dcctl(['uninstall'], { env: { ...env, DCCTL_TOKEN: 't' } });
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('--confirm "UNINSTALL DIRECT CONNECT"');
    const wrong = await dcctl(['uninstall', '--confirm', 'yes'], { env: { ...env, DCCTL_TOKEN: 't' } });
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('nothing was changed');
  });

  it('refuses a token on the command line (only "-" for stdin) and saves nothing', async () => {
    const r = await dcctl(['login', '--token', 'dct_visible'], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).not.toContain('dct_visible');
    expect(() => statSync(env.DCCTL_CONFIG)).toThrow();
  });

  it('saves a token read from stdin with mode 0600 (unverified), never printing it, and logout removes it', async () => {
    const r = await dcctl(['--api', '10.1.2.3:17480', 'login', '--token', '-', '--no-verify'], { env, stdin: 'dct_secret_value\n' });
    expect(r.code).toBe(0);
    expect(r.stdout + r.stderr).not.toContain('dct_secret_value');
    expect(statSync(env.DCCTL_CONFIG).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(env.DCCTL_CONFIG, 'utf8'))).toEqual({ token: 'dct_secret_value', api: '10.1.2.3:17480' });
    const out = await dcctl(['logout', '--json'], { env });
    expect(out.json()).toEqual({ configPath: env.DCCTL_CONFIG, loggedOut: true });
    expect(JSON.parse(readFileSync(env.DCCTL_CONFIG, 'utf8'))).toEqual({ api: '10.1.2.3:17480' });
  });

  it('reads the token from --token-file and refuses an empty one', async () => {
    const file = join(tmp.dir, 'empty-token');
    writeFileSync(file, '\n');
    const r = await dcctl(['login', '--token-file', file, '--no-verify'], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('the token must be one non-empty word');
  });
});

describe('dcctl health against a real cert-authority', () => {
  const tmp = makeTempDir('dcctl-health-');
  let ca: SpawnedService;
  const env = { DCCTL_CONFIG: join(tmp.dir, 'config.json') };
  beforeAll(async () => {
    ca = await spawnService({ entry: distEntry('apps/cert-authority'), env: { DC_CA_DATA_DIR: tmp.dir, DC_CA_GRPC__PORT: '0', DC_CA_METRICS__PORT: '0' } });
  });
  afterAll(async () => {
    await ca?.stop('SIGKILL');
    tmp.remove();
  });

  it('exits 0 on SERVING over TLS, checked against the trust bundle or not', async () => {
    const address = `127.0.0.1:${ca.ports.grpc}`;
    const checked = await dcctl(['--ca-file', join(tmp.dir, 'trust-bundle.pem'), 'health', address, '--json'], { env });
    expect(checked.code).toBe(0);
    expect(checked.json()).toEqual({ address, service: '', status: 'SERVING', transport: 'tls' });
    const probe = await dcctl(['health', '--tls', address, '--service', 'dc.ca.v1.CertificateAuthorityService'], { env });
    expect(probe.code).toBe(0);
    expect(probe.stdout).toBe(`${address} dc.ca.v1.CertificateAuthorityService: SERVING (tls)\n`);
    const auto = await dcctl(['health', address], { env });
    expect(auto.code).toBe(0);
    expect(auto.stdout).toBe(`${address}: SERVING (tls)\n`);
  });

  it('dials only the services named in --tls-services with TLS, checked against the trust bundle', async () => {
    const ca_ = `127.0.0.1:${ca.ports.grpc}`;
    // TLS to the CA reaches it: its answer is about the token (no settings to check bearer tokens), not the transport.
    const tls = await dcctl(['--ca', ca_, '--ca-file', join(tmp.dir, 'trust-bundle.pem'), '--tls-services', 'ca', 'certificates', 'list', '--issued'], { env: { ...env, DCCTL_TOKEN: 'dct_some_token' } });
    expect(tls.stderr).toContain(`certificate authority at ${ca_}`);
    expect(tls.code).toBe(4);
    const plain = await dcctl(['--timeout', '3s', '--ca', ca_, '--tls-services', 'none', 'certificates', 'list', '--issued'], { env: { ...env, DCCTL_TOKEN: 'dct_some_token' } });
    expect(plain.code).toBe(3);
    const noBundle = await dcctl(['--ca', ca_, '--tls-services', 'ca', 'certificates', 'list', '--issued'], { env: { ...env, DCCTL_TOKEN: 'dct_some_token' } });
    expect(noBundle.code).toBe(2);
    expect(noBundle.stderr).toContain('--ca-file');
    const named = await dcctl(['--ca', ca_, '--ca-file', join(tmp.dir, 'trust-bundle.pem'), '--tls-services', 'ca', '--tls-server-name', 'settings=settings,ca=localhost', 'certificates', 'list', '--issued'], { env: { ...env, DCCTL_TOKEN: 'dct_some_token' } });
    expect(named.code).toBe(4);
    const wrongName = await dcctl(['--timeout', '3s', '--ca', ca_, '--ca-file', join(tmp.dir, 'trust-bundle.pem'), '--tls-services', 'ca', '--tls-server-name', 'ca=wrong.example', 'certificates', 'list', '--issued'], { env: { ...env, DCCTL_TOKEN: 'dct_some_token' } });
    expect(wrongName.code).toBe(3);
    const badName = await dcctl(['--tls-server-name', 'web=x', 'certificates', 'list', '--issued'], { env: { ...env, DCCTL_TOKEN: 'dct_some_token' } });
    expect(badName.code).toBe(2);
    const badList = await dcctl(['--tls-services', 'ca,web', 'certificates', 'list', '--issued'], { env: { ...env, DCCTL_TOKEN: 'dct_some_token' } });
    expect(badList.code).toBe(2);
  });

  it('exits 1 for a service the server does not serve, 3 for plaintext only against TLS, 2 for a bad address', async () => {
    const address = `127.0.0.1:${ca.ports.grpc}`;
    const unknown = await dcctl(['health', address, '--service', 'no.such.Service'], { env });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('does not know the service "no.such.Service"');
    const plain = await dcctl(['--timeout', '3s', 'health', '--plaintext', address], { env });
    expect(plain.code).toBe(3);
    expect(plain.stderr).toContain('tried plaintext');
    const bad = await dcctl(['health', 'localhost'], { env });
    expect(bad.code).toBe(2);
  });
});
