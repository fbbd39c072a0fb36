// The whole topology of `npm start` (tools/dev/topology.mjs, the same module), every app a real
// process on 127.0.0.1 with free ports: cert-authority, settings, module-server, zone-proxy and
// two endpoints whose recorders replayed corpus audit logs. Configured through dcctl (a process)
// and the settings API; then sessions that return the recorders' data, RBAC refusals, an
// endpoint going Offline and back, certificate renewal under an open session, SIGKILL and
// restart of settings and of the broker, and the support package scanned for every secret the
// run created. Last, `npm start` itself: twice on one data directory, stopped with Ctrl-C.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { join, resolve } from 'node:path';
import { makeTempDir, waitFor, workspaceRoot } from '@dc/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AppName, loadTopology, type Topology } from './topology/dev-topology';
import { readZip } from './topology/zip';

const { allocatePorts, RECORDERS, run, SERVERS, Topology: TopologyClass } = await loadTopology();

interface Endpoint {
  clientId: string;
  hostName: string;
  status: string;
  certificateSerial?: string;
  route?: { kind: string; zoneProxyName?: string };
}
interface EventRecord {
  eventId: string;
  kind: string;
  clientId?: string;
}
interface Alert {
  kind: string;
  state: string;
  clientId?: string;
}

const DIRECT = 'recorder-direct';
const ZONE = 'recorder-zone';
const DCCTL = join(workspaceRoot, 'tools', 'dcctl', 'dist', 'main.cjs');
/** Deadlines are generous: CI machines are slow and shared; every wait polls, none sleeps. */
const LONG = 90_000;

describe('the npm start topology, as real processes', () => {
  const tmp = makeTempDir('dc-topology-');
  let t: Topology;
  const unexpected: string[] = [];
  /** Secrets this run created (tokens), scanned for in the support package. */
  const secrets = new Map<string, string>();
  let readerToken = '';

  const endpoints = async () => (await t.dcctlJson<{ endpoints?: Endpoint[] }>(['endpoints', 'list'])).endpoints ?? [];
  const endpoint = async (host: string) => (await endpoints()).find((e) => e.hostName === host);
  const waitStatus = (host: string, status: string, timeoutMs = LONG) =>
    waitFor(async () => {
      const e = await endpoint(host);
      return e?.status === status ? e : undefined;
    }, { timeoutMs, intervalMs: 500, what: `${host} to be ${status}` });
  const events = async (clientId?: string) =>
    (await t.dcctlJson<{ events?: EventRecord[] }>(['events', 'list', ...(clientId ? ['--client-id', clientId] : [])])).events ?? [];
  /** Test Connection (a ping over the control channel) answers: the endpoint is really connected now. */
  const waitReachable = (host: string) =>
    waitFor(async () => (await t.dcctl(['test-connection', host])).code === 0, { timeoutMs: LONG, intervalMs: 1000, what: `${host} to answer Test Connection` });
  const openSession = async (host: string) =>
    (await t.dcctlJson<{ session: { sessionId: string; sessionStatus: string } }>(['sessions', 'open', host, '--module', 'trace'])).session;
  const processEvents = async (sessionId: string) => {
    const chunks = (await t.dcctl(['--json', 'sessions', 'request', sessionId, '--events', 'process', '--since', '100000d'])).stdout.trim().split('\n').filter(Boolean);
    return chunks.flatMap((c) => (JSON.parse(c) as { events?: { events?: Array<{ process?: { commandLine?: string; executablePath?: string } }> } }).events?.events ?? []);
  };

  beforeAll(async () => {
    t = new TopologyClass({
      dataRoot: tmp.dir,
      ports: await allocatePorts('ephemeral'),
      // Offline after one missed 5 s heartbeat, alert at once: the offline scenario stays short.
      heartbeat: ['--interval', '5s', '--offline-after', '1', '--alert-after', '1'],
      zoneConnectTimeoutMs: LONG,
      onUnexpectedExit: (app, code, signal) => unexpected.push(`${app} (${code ?? signal})`),
    });
    // The apps run in their own process groups: if this worker dies, they must not outlive it.
    process.once('exit', () => t.killAllNow());
    await t.start();
    secrets.set('administrator token', t.adminToken());
    secrets.set('service account token', readFileSync(join(t.dir('settings'), 'service-account.token'), 'utf8').trim());
    // The package the recorders were installed with carries the enrolment token (a secret).
    const configuration = JSON.parse(readFileSync(join(t.dir(DIRECT), 'configuration.json'), 'utf8')) as { enrolmentToken: string };
    secrets.set('enrolment token', configuration.enrolmentToken);
  }, 240_000);

  afterAll(async () => {
    await t?.stop();
    tmp.remove();
  }, 60_000);

  it('starts every server and answers grpc.health.v1 on each gRPC port', async () => {
    for (const name of SERVERS) expect(t.app(name).running, name).toBe(true);
    // dcctl health tries TLS and plaintext at once; settings' certificate names "settings".
    const probes: Array<[keyof typeof t.ports, string[]]> = [
      ['ca', []],
      ['settings', ['--ca-file', t.trustBundle, '--tls-server-name', 'settings']],
      ['api', []],
      ['gateway', []],
      ['zoneProvisioning', []],
      ['zoneEndpointInbound', []],
      ['zoneModuleServerInbound', []],
    ];
    for (const [key, extra] of probes) {
      const r = await run(process.execPath, [DCCTL, 'health', t.address(key), ...extra]);
      expect(r.code, `${key}: ${r.stdout}${r.stderr}`).toBe(0);
    }
  });

  it('bootstraps through the real APIs: default set-up, connection settings, content build, zone proxy record', async () => {
    expect(t.bootstrap).toEqual({ 'zone proxy installed': 'done', 'connection settings (FQDN 127.0.0.1)': 'done', 'zone proxy added': 'done' });
    const setup = await t.dcctlJson<{ steps?: Array<{ name: string; done?: boolean }> }>(['setup', 'status']);
    expect(setup.steps?.map((s) => [s.name, s.done ?? false])).toEqual([
      ['service account', true],
      ['action group', true],
      ['connection settings', true],
      ['content build', true],
    ]);
    const zones = await t.dcctlJson<{ zoneProxies: Array<{ name: string; endpointInboundPort: number; moduleServerInboundPort: number }> }>(['zone-proxies', 'list']);
    expect(zones.zoneProxies).toEqual([expect.objectContaining({ name: 'zone-proxy', endpointInboundPort: t.ports.zoneEndpointInbound, moduleServerInboundPort: t.ports.zoneModuleServerInbound })]);
    const who = await t.dcctlJson<{ user?: { name?: string } }>(['whoami']);
    expect(JSON.stringify(who)).toContain('admin');
  });

  it('enrols the direct endpoint (recorder connect with its package); it is online; a session returns the data its recorder replayed', async () => {
    const e = await waitStatus(DIRECT, 'ENDPOINT_STATUS_ONLINE');
    expect(e.clientId).toMatch(/^[0-9a-f-]{36}$/);
    const replayed = t.recorderReplays[DIRECT]!.result as { events: { process: number } };
    expect(replayed.events.process).toBeGreaterThan(0);
    const session = await openSession(DIRECT);
    expect(session.sessionStatus).toBe('SESSION_STATUS_OPEN');
    const got = await processEvents(session.sessionId);
    expect(got).toHaveLength(replayed.events.process);
    // laurel/shell-proc-trace.txt: ( /bin/echo foo | /bin/sed -e 's/foo/bar/' ) | grep …
    expect(got.map((x) => x.process?.commandLine)).toEqual(expect.arrayContaining(['/bin/echo foo', '/bin/sed -e s/foo/bar/']));
    expect((await t.dcctl(['sessions', 'close', session.sessionId])).code).toBe(0);
  }, 240_000);

  it('links the zone proxy (Connected); the zone endpoint enrols and comes online through it; a session returns its recorder data', async () => {
    expect(t.zoneProxyConnected).toBe(true);
    expect(await t.zoneProxyStatus()).toBe('ZONE_PROXY_STATUS_CONNECTED');
    const e = await waitStatus(ZONE, 'ENDPOINT_STATUS_ONLINE');
    expect(e.route).toMatchObject({ kind: 'ROUTE_KIND_ZONE_PROXY', zoneProxyName: 'zone-proxy' });
    const replayed = t.recorderReplays[ZONE]!.result as { events: { process: number } };
    expect(replayed.events.process).toBeGreaterThan(0);
    const session = await openSession(ZONE);
    expect(session.sessionStatus).toBe('SESSION_STATUS_OPEN');
    const got = await processEvents(session.sessionId);
    expect(got).toHaveLength(replayed.events.process);
    // hub/auditd-postexploit-rm.log: a burst of rm executions.
    expect(got.every((x) => x.process?.executablePath === '/bin/rm')).toBe(true);
    expect((await t.dcctl(['sessions', 'close', session.sessionId])).code).toBe(0);
    const tc = await t.dcctl(['test-connection', ZONE]);
    expect(tc.code, tc.stderr).toBe(0);
    expect(tc.stdout).toContain('zone proxy zone-proxy');
  }, 240_000);

  it('refuses a read-only user every write with PERMISSION_DENIED (exit 4, the permission named) and changes nothing', async () => {
    expect((await t.dcctl(['users', 'create', 'auditor', '--roles', 'read-only-user'])).code).toBe(0);
    const tokenFile = join(tmp.dir, 'auditor.token');
    const created = await t.dcctl(['tokens', 'create', 'auditor', '--name', 'topology test', '--out', tokenFile]);
    expect(created.code, created.stderr).toBe(0);
    readerToken = readFileSync(tokenFile, 'utf8').trim();
    secrets.set('read-only token', readerToken);
    const asReader = (args: string[]) => t.dcctl(args, { token: readerToken });

    // Reads are allowed (Show Direct Connect, Session Read, Settings Read).
    expect((await asReader(['endpoints', 'list'])).code).toBe(0);
    expect((await asReader(['connection', 'show'])).code).toBe(0);
    // Writes are not: settings (Settings Write), the broker (Session Write), RBAC itself.
    const refusals: Array<[string[], string]> = [
      [['connection', 'set', '--fqdn', 'changed.example.com', '--skip-resolution-check'], 'SETTINGS_WRITE'],
      [['heartbeat', 'set', '--offline-after', '7'], 'SETTINGS_WRITE'],
      [['sessions', 'open', DIRECT, '--module', 'trace'], 'SESSION_WRITE'],
      [['test-connection', DIRECT], 'SESSION_WRITE'],
      [['users', 'create', 'mallory', '--roles', 'administrator'], 'SETTINGS_WRITE'],
    ];
    for (const [args, permission] of refusals) {
      const r = await asReader(args);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(4);
      expect(r.stderr, args.join(' ')).toContain(permission);
    }
    const conn = await t.dcctlJson<{ settings?: { fqdn?: string } }>(['connection', 'show']);
    expect(JSON.stringify(conn)).toContain('"127.0.0.1"');
    expect(JSON.stringify(conn)).not.toContain('changed.example.com');
    const users = JSON.stringify(await t.dcctlJson(['users', 'list']));
    expect(users).not.toContain('mallory');
    expect((await t.dcctlJson<{ sessions: unknown[] }>(['sessions', 'list'])).sessions).toEqual([]);
  }, 240_000);

  it('renews the endpoint certificate while a session is open: the session keeps answering; the next connection uses the new certificate', async () => {
    const before = (await endpoint(DIRECT))!;
    const identityFile = join(t.dir(DIRECT), 'identity', 'endpoint.crt');
    const serialOf = (pem: string) => new X509Certificate(pem).serialNumber.toLowerCase().replace(/^0+/, '');
    const oldSerial = serialOf(readFileSync(identityFile, 'utf8'));
    expect(oldSerial).toBe(before.certificateSerial!.toLowerCase().replace(/^0+/, ''));
    const session = await openSession(DIRECT);

    const renewed = await t.dcctl(['certificates', 'renew-client', '--client-id', before.clientId]);
    expect(renewed.code, renewed.stderr).toBe(0);
    await waitFor(async () => (await events(before.clientId)).some((e) => e.kind === 'EVENT_KIND_CERTIFICATE_RENEWED'), { timeoutMs: LONG, intervalMs: 500, what: 'the certificate-renewed event' });
    const newSerial = await waitFor(() => {
      const s = serialOf(readFileSync(identityFile, 'utf8'));
      return s !== oldSerial ? s : undefined;
    }, { timeoutMs: LONG, intervalMs: 250, what: 'the endpoint to store its renewed certificate' });

    // The session opened before the renewal still carries requests.
    const ping = await t.dcctl(['sessions', 'request', session.sessionId, '--ping']);
    expect(ping.code, ping.stderr).toBe(0);
    expect(ping.stdout).toContain('pong');
    expect(await processEvents(session.sessionId)).not.toHaveLength(0);
    expect((await t.dcctl(['sessions', 'close', session.sessionId])).code).toBe(0);

    // The endpoint's next connection presents the renewed certificate.
    expect(await t.stopApp(DIRECT)).toBe(0);
    await t.restart(DIRECT);
    const after = await waitFor(async () => {
      const e = await endpoint(DIRECT);
      return e?.status === 'ENDPOINT_STATUS_ONLINE' && e.certificateSerial?.toLowerCase().replace(/^0+/, '') === newSerial ? e : undefined;
    }, { timeoutMs: LONG, intervalMs: 500, what: 'the endpoint online with its renewed certificate' });
    expect(after.clientId).toBe(before.clientId);
  }, 240_000);

  it('marks a stopped endpoint Offline with an event and an alert, and Online again (alert cleared) when it restarts', async () => {
    const { clientId } = (await endpoint(DIRECT))!;
    await t.kill(DIRECT);
    await waitStatus(DIRECT, 'ENDPOINT_STATUS_OFFLINE');
    await waitFor(async () => (await events(clientId)).some((e) => e.kind === 'EVENT_KIND_ENDPOINT_OFFLINE'), { timeoutMs: LONG, what: 'the offline event' });
    const activeAlert = async () =>
      ((await t.dcctlJson<{ alerts?: Alert[] }>(['alerts', 'list', '--kind', 'endpoint-offline', '--client-id', clientId])).alerts ?? []).filter((a) => a.state === 'ALERT_STATE_ACTIVE');
    await waitFor(async () => (await activeAlert()).length === 1, { timeoutMs: LONG, intervalMs: 500, what: 'the endpoint-offline alert' });

    await t.restart(DIRECT);
    const back = await waitStatus(DIRECT, 'ENDPOINT_STATUS_ONLINE');
    expect(back.clientId).toBe(clientId); // the same identity, not a new enrolment
    await waitFor(async () => (await activeAlert()).length === 0, { timeoutMs: LONG, intervalMs: 500, what: 'the alert to clear' });
    const kinds = (await events(clientId)).map((e) => e.kind);
    expect(kinds).toContain('EVENT_KIND_ALERT_CLEARED');
  }, 240_000);

  it('survives SIGKILL of settings: restarted on the same data, nothing committed is lost, the broker follows it again', async () => {
    const usersBefore = JSON.stringify(await t.dcctlJson(['users', 'list']));
    const policyBefore = await t.dcctlJson(['heartbeat', 'show']);
    const zonesBefore = await t.dcctlJson(['zone-proxies', 'list']);
    expect(usersBefore).toContain('auditor');

    await t.kill('settings');
    expect((await t.dcctl(['users', 'list'])).code).toBe(3); // unavailable while it is down
    await t.restart('settings');

    expect(JSON.stringify(await t.dcctlJson(['users', 'list']))).toBe(usersBefore);
    expect(await t.dcctlJson(['heartbeat', 'show'])).toEqual(policyBefore);
    expect(JSON.stringify(await t.dcctlJson(['zone-proxies', 'list']))).toContain((zonesBefore as { zoneProxies: Array<{ zoneProxyId: string }> }).zoneProxies[0]!.zoneProxyId);
    // The read-only token still works and is still refused writes: RBAC data survived.
    expect((await t.dcctl(['connection', 'show'], { token: readerToken })).code).toBe(0);
    // The broker checks tokens with settings again: a token created after the restart is accepted by the module server.
    const tokenFile = join(tmp.dir, 'after-restart.token');
    expect((await t.dcctl(['tokens', 'create', 'admin', '--name', 'after settings restart', '--out', tokenFile])).code).toBe(0);
    const fresh = readFileSync(tokenFile, 'utf8').trim();
    secrets.set('token created after the settings restart', fresh);
    await waitFor(async () => (await t.dcctl(['endpoints', 'list'], { token: fresh })).code === 0, { timeoutMs: LONG, intervalMs: 500, what: 'the module server to accept a new token' });
    await waitReachable(DIRECT);
    await waitReachable(ZONE);
  }, 240_000);

  it('survives SIGKILL of the broker: events committed before are kept, the endpoint reconnects, sessions work again', async () => {
    const { clientId } = (await endpoint(DIRECT))!;
    const before = await events();
    expect(before.length).toBeGreaterThan(3);

    await t.kill('module-server');
    await t.restart('module-server');
    await waitReachable(DIRECT);

    const after = await events();
    const ids = new Set(after.map((e) => e.eventId));
    for (const e of before) expect(ids.has(e.eventId), `event ${e.eventId} ${e.kind}`).toBe(true);
    const back = await waitStatus(DIRECT, 'ENDPOINT_STATUS_ONLINE');
    expect(back.clientId).toBe(clientId);
    const session = await openSession(DIRECT);
    expect(await processEvents(session.sessionId)).not.toHaveLength(0);
    expect((await t.dcctl(['sessions', 'close', session.sessionId])).code).toBe(0);
    // The zone proxy is linked again (no new provisioning) and its endpoint is back through it.
    await t.waitZoneProxyConnected(LONG);
    await waitReachable(ZONE);
  }, 240_000);

  it('survives SIGKILL of the zone proxy: restarted on its data, linked again without re-provisioning, the zone endpoint back', async () => {
    const { clientId } = (await endpoint(ZONE))!;
    const before = await t.dcctlJson<{ zoneProxies: Array<{ zoneProxyId: string; payloadCertificateFingerprintSha256: string }> }>(['zone-proxies', 'list']);
    await t.kill('zone-proxy');
    await waitFor(async () => (await t.zoneProxyStatus()) !== 'ZONE_PROXY_STATUS_CONNECTED', { timeoutMs: LONG, intervalMs: 500, what: 'the module server to see the link down' });
    await t.restart('zone-proxy');
    await t.waitZoneProxyConnected(LONG);
    const after = await t.dcctlJson<{ zoneProxies: Array<{ zoneProxyId: string; payloadCertificateFingerprintSha256: string }> }>(['zone-proxies', 'list']);
    expect(after.zoneProxies.map((z) => [z.zoneProxyId, z.payloadCertificateFingerprintSha256])).toEqual(before.zoneProxies.map((z) => [z.zoneProxyId, z.payloadCertificateFingerprintSha256]));
    await waitReachable(ZONE);
    const back = await waitStatus(ZONE, 'ENDPOINT_STATUS_ONLINE');
    expect(back.clientId).toBe(clientId);
    expect(back.route?.kind).toBe('ROUTE_KIND_ZONE_PROXY');
    const session = await openSession(ZONE);
    expect(await processEvents(session.sessionId)).not.toHaveLength(0);
    expect((await t.dcctl(['sessions', 'close', session.sessionId])).code).toBe(0);
    await waitReachable(DIRECT);
  }, 240_000);

  it('builds a support package with the service state and logs, holding none of the secrets this run created', async () => {
    const out = join(tmp.dir, 'support');
    mkdirSync(out);
    const r = await t.dcctl(['support', 'download', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    const entries = readZip(readFileSync(r.stdout.trim()));
    const names = entries.map((e) => e.name);
    expect(names).toEqual(expect.arrayContaining(['info.json', 'settings.json', 'endpoints.json', 'sessions.json', 'events.json', 'alerts.json', 'certificates.json', 'zone-proxies.json']));
    const text = (name: string) => entries.find((e) => e.name === name)!.data.toString('utf8');
    expect(text('endpoints.json')).toContain(DIRECT);
    expect(text('endpoints.json')).toContain(ZONE);
    expect(text('events.json')).toContain('ENDPOINT_OFFLINE');

    // Every private key on disk in this topology, by a distinctive line of its PEM body.
    const keyFiles = [
      ...readdirSync(join(t.caDir, 'keys')).map((f) => join(t.caDir, 'keys', f)),
      ...readdirSync(join(t.caDir, 'credentials')).filter((f) => f.endsWith('.key.pem')).map((f) => join(t.caDir, 'credentials', f)),
      join(t.caDir, 'tls', 'server.key.pem'),
      join(t.dir('module-server'), 'tls', 'gateway.key.pem'),
      join(t.dir(DIRECT), 'identity', 'endpoint.key'),
    ].filter((f) => existsSync(f));
    expect(keyFiles.length).toBeGreaterThanOrEqual(5);
    for (const f of keyFiles) secrets.set(`private key ${f}`, readFileSync(f, 'utf8').split('\n')[2]!);
    const provision = readFileSync(t.provisionFile, 'utf8');
    secrets.set('provision secret', /-----BEGIN PROVISION SECRET-----\n([^-]+)-----END/.exec(provision)![1]!.trim().split('\n')[0]!);
    secrets.set('settings secret.key', readFileSync(join(t.dir('settings'), 'secret.key'), 'utf8').trim());
    expect(secrets.size).toBeGreaterThanOrEqual(11);

    for (const entry of entries) {
      const body = entry.data.toString('utf8');
      for (const [what, secret] of secrets) {
        expect(secret.length, what).toBeGreaterThanOrEqual(16);
        expect(body.includes(secret), `${entry.name} contains the ${what}`).toBe(false);
      }
      expect(body, entry.name).not.toMatch(/-----BEGIN [A-Z ]*PRIVATE KEY-----/);
    }
  });

  it('had no process exit on its own', () => {
    expect(unexpected).toEqual([]);
    for (const name of [...SERVERS, ...RECORDERS] as AppName[]) expect(t.app(name).running, name).toBe(true);
  });
});

describe('npm start (tools/dev/start.mjs)', () => {
  const tmp = makeTempDir('dc-npm-start-');
  afterAll(() => tmp.remove());

  /** Runs start.mjs until it prints that everything is running, then Ctrl-C; resolves with its output and exit code. */
  function startAndInterrupt(whileRunning?: (out: string) => Promise<void>): Promise<{ code: number | null; signal: string | null; out: string }> {
    const child = spawn(process.execPath, [join(workspaceRoot, 'tools', 'dev', 'start.mjs'), '--ephemeral-ports'], {
      cwd: workspaceRoot,
      env: { ...process.env, DC_DATA_ROOT: tmp.dir, DC_START_ZONE_WAIT_SECONDS: '90' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    const exited = new Promise<{ code: number | null; signal: string | null }>((res) => child.once('exit', (code, signal) => res({ code, signal })));
    return (async () => {
      try {
        await waitFor(() => out.includes('Ctrl-C stops everything') || child.exitCode !== null, { timeoutMs: 180_000, intervalMs: 200, what: 'npm start to print that everything runs' });
      } catch (err) {
        child.kill('SIGKILL');
        throw new Error(`${(err as Error).message}\n${out}`);
      }
      try {
        if (child.exitCode === null) await whileRunning?.(out);
      } finally {
        child.kill('SIGINT');
      }
      const { code, signal } = await exited;
      return { code, signal, out };
    })();
  }

  it('runs everything, prints the ports and the dcctl commands, stops cleanly on Ctrl-C, and reuses its data on a second run', async () => {
    // The commands it prints work as printed: the alias, login with the token file, then a look at the endpoints.
    const first = await startAndInterrupt(async (out) => {
      const alias = /alias dcctl='node (\S+) ([^']+)'/.exec(out);
      expect(alias, out).not.toBeNull();
      const login = /dcctl login --token-file (\S+)/.exec(out)![1]!;
      const dcctl = (args: string[]) =>
        run(process.execPath, [resolve(workspaceRoot, alias![1]!), ...alias![2]!.split(' '), ...args], { env: { DCCTL_CONFIG: join(tmp.dir, 'operator-dcctl.json'), DCCTL_TOKEN: '' } });
      const r = await dcctl(['login', '--token-file', resolve(workspaceRoot, login)]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain('logged in as admin');
      await waitFor(async () => (await dcctl(['test-connection', 'recorder-direct'])).code === 0, { timeoutMs: 90_000, intervalMs: 1000, what: 'recorder-direct to answer' });
      await waitFor(async () => (await dcctl(['test-connection', 'recorder-zone'])).code === 0, { timeoutMs: 90_000, intervalMs: 1000, what: 'recorder-zone to answer' });
      const listed = (await dcctl(['endpoints', 'list'])).stdout;
      expect(listed).toMatch(/^recorder-direct +\S+ +online /m);
      expect(listed).toMatch(/^recorder-zone +\S+ +online /m);
    });
    expect(first.code, first.out).toBe(0);
    expect(first.out).toMatch(/connection settings \(FQDN 127\.0\.0\.1\) +done/);
    expect(first.out).toMatch(/zone proxy added +done/);
    expect(first.out).toMatch(/zone proxy link +Connected/);
    for (const name of [...SERVERS, ...RECORDERS]) {
      expect(first.out).toMatch(new RegExp(`^  ${name} +\\S`, 'm'));
      // Known issue (reported): the agent behind the zone proxy sometimes waits for the relayed
      // control stream to end after SIGTERM, so the runner SIGKILLs it after its grace time.
      const code = name === ZONE ? '(0|SIGKILL)' : '0';
      expect(first.out).toMatch(new RegExp(`^  ${name} stopped \\(${code}\\)$`, 'm'));
    }
    expect(first.out).toMatch(/module-server +gateway \d+ \(mTLS\), api \d+/);
    expect(first.out).toMatch(/alias dcctl='node .*--api 127\.0\.0\.1:\d+ /);
    expect(first.out).toContain('dcctl login --token-file');
    expect(first.out).toContain('dcctl endpoints list');
    const adminToken = readFileSync(join(tmp.dir, 'settings', 'admin.token'), 'utf8').trim();
    expect(first.out).not.toContain(adminToken);
    const caDbFirst = readFileSync(join(tmp.dir, 'cert-authority', 'trust-bundle.pem'), 'utf8');

    const second = await startAndInterrupt();
    expect(second.code, second.out).toBe(0);
    expect(second.out).toMatch(/zone proxy installed +already done/);
    expect(second.out).toMatch(/connection settings \(FQDN 127\.0\.0\.1\) +already done/);
    expect(second.out).toMatch(/zone proxy added +already done/);
    expect(second.out).toMatch(/zone proxy link +Connected/);
    // The same root CA and administrator: the data was reused, not re-created.
    expect(readFileSync(join(tmp.dir, 'cert-authority', 'trust-bundle.pem'), 'utf8')).toBe(caDbFirst);
    expect(readFileSync(join(tmp.dir, 'settings', 'admin.token'), 'utf8').trim()).toBe(adminToken);
  }, 420_000);
});
