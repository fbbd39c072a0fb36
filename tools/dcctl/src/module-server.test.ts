// dcctl against a real module server (and the real cert-authority it needs), both spawned as
// processes: endpoints, sessions, test connection, events, alerts, support package, info, and
// the exit codes for a refused token (4), a missing permission (4) and a refused request (1).
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { credentials, Metadata } from '@grpc/grpc-js';
import { moduleServerV1 } from '@dc/proto';
import { startGrpcServer } from '@dc/service-kit';
import { makeTempDir, type SpawnedService, waitFor, workspaceRoot } from '@dc/service-kit/testing';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RealServers, startAgent, startCaAndModuleServer } from './testing/real-servers';
import { dcctl } from './testing/run-dcctl';

const ADMIN = 'dcctl-test-admin-token-0001';
const READER = 'dcctl-test-reader-token-0001';

describe('dcctl against a real module server', () => {
  const tmp = makeTempDir('dcctl-ms-');
  let servers: RealServers;
  let env: Record<string, string>;
  let api: string;

  beforeAll(async () => {
    servers = await startCaAndModuleServer(tmp.dir, { [ADMIN]: 'ADMINISTRATOR', [READER]: 'READ_ONLY_USER' });
    api = servers.api;
    env = { DCCTL_CONFIG: join(tmp.dir, 'dcctl.json'), DCCTL_TOKEN: ADMIN };
  }, 60_000);

  afterAll(async () => {
    await servers?.stop();
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

  describe('with a real endpoint agent connected', () => {
    let agent: SpawnedService;

    beforeAll(async () => {
      // The endpoint's tools directory holds its package's configuration.json (as settings builds it).
      agent = await startAgent(servers, join(tmp.dir, 'agent'), 'web-01');
      await waitFor(async () => (await run(['--json', 'endpoints', 'list', '--status', 'online'])).json<{ totalSize?: number }>().totalSize === 1, { timeoutMs: 30_000, what: 'web-01 online' });
    }, 90_000);

    afterAll(async () => {
      await agent?.stop('SIGKILL');
    });

    it('lists the endpoint online with last seen and route', async () => {
      const r = await run(['endpoints', 'list']);
      expect(r.stdout).toMatch(/^web-01 +\S+ +online +\S+ ago +direct from \S+ +linux /m);
      expect(r.stdout).toContain('1 of 1 endpoint(s); 1 online, 0 not online');
      const one = (await run(['--json', 'endpoints', 'show', 'web-01'])).json<{ endpoint: { hostName: string; status: string } }>();
      expect(one.endpoint).toMatchObject({ hostName: 'web-01', status: 'ENDPOINT_STATUS_ONLINE' });
    });

    it('tests the connection: online with the round trip, exit 0', async () => {
      const r = await run(['test-connection', 'web-01']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^ONLINE: web-01 \(\S+\) answered in \d+/);
    });

    it('opens a session, shows it in the SPEC 1.5 grid, sends a ping over it and closes it', async () => {
      const opened = await run(['--json', 'sessions', 'open', 'web-01', '--module', 'trace']);
      expect(opened.code, opened.stderr).toBe(0);
      const session = opened.json<{ session: { sessionId: string; sessionStatus: string } }>().session;
      expect(session.sessionStatus).toBe('SESSION_STATUS_OPEN');
      const grid = await run(['sessions', 'list']);
      expect(grid.stdout.split('\n')[0]).toMatch(/^SESSION +HOST NAME +CLIENT ID +IP ADDRESS +ACTION STATUS +SESSION STATUS +DURATION +LAST MESSAGE +MODULE$/);
      expect(grid.stdout).toMatch(new RegExp(`^${session.sessionId} +web-01 .* succeeded +open .* trace$`, 'm'));
      const ping = await run(['sessions', 'request', session.sessionId, '--ping']);
      expect(ping.code, ping.stderr).toBe(0);
      expect(ping.stdout).toMatch(/#0 last\] pong from endpoint/);
      const events = await run(['sessions', 'request', session.sessionId, '--events', 'process', '--since', '1h', '--limit', '10']);
      expect(events.code, events.stderr).toBe(0);
      expect(events.stdout).toMatch(/#0 last\] \d+ event\(s\)/);
      // The filter goes to the endpoint unchanged: the filters.json language, refused there with the offset and the rule.
      const filtered = await run(['sessions', 'request', session.sessionId, '--events', 'process', '--filter', '{"field": "exe", "endsWith": "/no-such-tool"}']);
      expect(filtered.code, filtered.stderr).toBe(0);
      expect(filtered.stdout).toMatch(/#0 last\] 0 event\(s\)/);
      const badFilter = await run(['sessions', 'request', session.sessionId, '--events', 'process', '--filter', '{"field": "exe", "endswith": "/curl"}']);
      expect(badFilter.code).toBe(1);
      expect(badFilter.stderr).toMatch(/^error: query_events\.filter: is not a condition of the filters\.json language .*at offset 17: \$\.endswith "\/curl": unknown key/m);
      const raw = await run(['--json', 'sessions', 'request', session.sessionId, '--raw', '{"recorderStatus":{}}']);
      expect(raw.code, raw.stderr).toBe(0);
      expect(JSON.parse(raw.stdout.trim().split('\n')[0]!)).toMatchObject({ last: true });
      // Protect's access.log names the session, the module and the request of a retrieval, as the agent passes them.
      mkdirSync(join(tmp.dir, 'agent', 'keys'), { mode: 0o700 });
      const sessionsApi = new moduleServerV1.SessionServiceClient(api, credentials.createInsecure());
      const md = new Metadata();
      md.set('authorization', `Bearer ${ADMIN}`);
      const refusal = await new Promise<Error | null>((resolve) =>
        sessionsApi.retrieveKey(moduleServerV1.RetrieveKeyRequest.fromPartial({ sessionId: session.sessionId, retrieval: { keyId: 'absent', justification: 'dcctl test' } }), md, (err) => resolve(err)),
      );
      sessionsApi.close();
      expect(refusal?.message).toMatch(/key "absent" is not in this endpoint's key store/);
      const access = readFileSync(join(tmp.dir, 'agent', 'keys', 'access.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, string>);
      expect(access).toEqual([expect.objectContaining({ sessionId: session.sessionId, moduleName: 'trace', keyId: 'absent', outcome: 'refused' })]);
      expect(access[0]!.requestId).toMatch(/\S/);
      const badRaw = await run(['sessions', 'request', session.sessionId, '--raw', '{"nothing":1}']);
      expect(badRaw.code).toBe(2);
      const closed = await run(['sessions', 'close', session.sessionId, '--reason', 'test done']);
      expect(closed.code).toBe(0);
      expect(closed.stdout).toContain(`session ${session.sessionId} closed`);
    });

    it('follows events as they happen (a session opened meanwhile) until Ctrl-C, exit 0', async () => {
      const follower = spawn(process.execPath, [join(workspaceRoot, 'tools', 'dcctl', 'dist', 'main.cjs'), '--api', api, '--json', 'events', 'follow'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      follower.stdout.on('data', (b: Buffer) => (out += b.toString('utf8')));
      const exited = new Promise<number | null>((resolve) => follower.once('exit', (code) => resolve(code)));
      try {
        // The stream is open once the module server counts it; until then open sessions until one is seen.
        await waitFor(
          async () => {
            const opened = (await run(['--json', 'sessions', 'open', 'web-01', '--module', 'map'])).json<{ session: { sessionId: string } }>();
            await run(['sessions', 'close', opened.session.sessionId]);
            return out.includes('EVENT_KIND_SESSION_OPENED');
          },
          { timeoutMs: 20_000, intervalMs: 200, what: 'a followed session event' },
        );
        const line = out.split('\n').find((l) => l.includes('EVENT_KIND_SESSION_OPENED'))!;
        expect(JSON.parse(line)).toMatchObject({ kind: 'EVENT_KIND_SESSION_OPENED', hostName: 'web-01' });
      } finally {
        follower.kill('SIGINT');
      }
      expect(await exited).toBe(0);
    });

    it('stops and starts the recorder through a session (SPEC 2.4 Disable / Enable Recorder)', async () => {
      const stopped = await run(['--json', 'recorder', 'stop', 'web-01', '--reason', 'dcctl test']);
      expect(stopped.code, stopped.stderr).toBe(0);
      expect(JSON.stringify(stopped.json())).toContain('RECORDER_STATE_STOPPED');
      expect(JSON.stringify(stopped.json())).toContain('dcctl test');
      const started = await run(['--json', 'recorder', 'start', 'web-01']);
      expect(started.code, started.stderr).toBe(0);
      expect(JSON.stringify(started.json())).toContain('RECORDER_STATE_RUNNING');
      expect((await run(['--json', 'sessions', 'list'])).json()).toEqual({ sessions: [] });
    });

    it('reads the recorder status through a session it opens and closes itself', async () => {
      const r = await run(['--json', 'recorder', 'status', 'web-01']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.json<{ status: { state?: string } }>().status).toBeDefined();
      const open = (await run(['--json', 'sessions', 'list'])).json<{ sessions: unknown[] }>();
      expect(open.sessions).toEqual([]);
      const all = (await run(['--json', 'sessions', 'list', '--all'])).json<{ sessions: Array<{ moduleName: string; sessionStatus: string }> }>();
      expect(all.sessions).toContainEqual(expect.objectContaining({ moduleName: 'dcctl', sessionStatus: 'SESSION_STATUS_CLOSED' }));
    });
  });

  it('reports an operation the server does not offer clearly (exit 1, UNIMPLEMENTED): a gRPC server without AdminService, as an older module server', async () => {
    const bare = await startGrpcServer({ name: 'older-api', host: '127.0.0.1', port: 0, services: [], log: pino({ level: 'silent' }) });
    try {
      const r = await dcctl(['--api', `127.0.0.1:${bare.port}`, 'uninstall', '--dry-run'], { env });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('dc.moduleserver.v1.AdminService/Uninstall is not implemented (UNIMPLEMENTED from module server API');
      expect(r.stderr).toContain('hint: this module server API build does not offer the operation yet');
    } finally {
      await bare.shutdown(100);
    }
  });

});
