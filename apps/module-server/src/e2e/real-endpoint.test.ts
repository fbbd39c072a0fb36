// Cross-process: the real endpoint recorder (`recorder connect`, with an endpoint package's
// configuration.json) enrols, connects over mutual TLS and answers a session's event query from
// the monitor.db it filled by replaying an audit corpus; `recorder doctor` checks the way there.
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir, sharedRoot, spawnService, type SpawnedService, waitFor, workspaceRoot } from '@dc/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { common, moduleserver as ms } from '../contracts';
import { type Harness, startHarness, TOKENS, unary } from '../testing/broker-harness';

const CORPUS = join(sharedRoot, 'corpora', 'LLM-log-parsing', 'russelmitchell_intranet_server_audit.log');
const RECORDER = join(workspaceRoot, 'apps', 'endpoint-recorder', 'dist', 'main.cjs');

/** The endpoint package's configuration.json, as settings' content build writes it. */
function writePackage(file: string, gateway: string, trustBundlePem: string, enrolmentToken = ''): void {
  const [host, port] = [gateway.slice(0, gateway.lastIndexOf(':')), Number(gateway.slice(gateway.lastIndexOf(':') + 1))];
  const configuration = common.EndpointConfiguration.fromPartial({ revision: 1, brokerHost: host, brokerPort: port, trustBundlePem, enrolmentToken });
  writeFileSync(file, JSON.stringify(common.EndpointConfiguration.toJSON(configuration)), { mode: 0o600 });
}

describe('a session to a real endpoint agent process', () => {
  let h: Harness;
  let agent: SpawnedService;
  const tmp = makeTempDir('dc-e2e-');
  beforeAll(async () => {
    if (!existsSync(RECORDER)) execFileSync(process.execPath, [join(workspaceRoot, 'tools', 'build', 'build.mjs'), 'apps/endpoint-recorder'], { cwd: workspaceRoot });
    execFileSync(process.execPath, [RECORDER, 'replay', CORPUS, '--config', tmp.dir, '--json'], { cwd: tmp.dir });
    h = await startHarness();
    writePackage(join(tmp.dir, 'configuration.json'), h.gatewayAddress(), h.ca.rootPem, h.ca.createEnrolmentToken());
    agent = await spawnService({
      entry: RECORDER,
      args: ['connect', '--config', tmp.dir, '--host-name', 'intranet-server'],
      startTimeoutMs: 30_000,
    });
  }, 90_000);
  afterAll(async () => {
    await agent?.stop();
    await h?.close();
    tmp.remove();
  });

  it('enrols, comes online and returns its recorder events through a session', async () => {
    const online = await waitFor(() => h.broker.registry.find('intranet-server')?.status === 'ONLINE' && h.broker.registry.find('intranet-server'), { timeoutMs: 30_000, what: 'the agent online' });
    const api = h.api(TOKENS.user);
    const { session } = await unary(api.sessions.openSession.bind(api.sessions), { target: { target: { $case: 'computerName', value: 'intranet-server' } }, moduleName: 'trace', waitUntilOpen: true }, api.metadata);
    expect(session!.sessionStatus).toBe(ms.SessionStatus.SESSION_STATUS_OPEN);
    expect(session!.clientId).toBe(online.clientId);
    const chunks = await new Promise<ms.QueryEventsResponse[]>((resolve, reject) => {
      const out: ms.QueryEventsResponse[] = [];
      const s = api.sessions.queryEvents(
        ms.QueryEventsRequest.fromPartial({ sessionId: session!.sessionId, query: { family: common.EventFamily.EVENT_FAMILY_SECURITY, limit: 1200, chunkSize: 500 } }),
        api.metadata,
      );
      s.on('data', (d: ms.QueryEventsResponse) => out.push(d));
      s.on('error', reject);
      s.on('end', () => resolve(out));
    });
    const events = chunks.flatMap((c) => c.chunk!.events);
    expect(chunks.map((c) => c.chunk!.events.length)).toEqual([500, 500, 200]);
    expect(chunks[2]!.chunk!.truncated).toBe(true); // the corpus holds more than 1200 security events
    expect(events[0]!.detail?.$case).toBe('securityDetail');
    expect(events[0]!.time!.getTime()).toBeLessThanOrEqual(events[1199]!.time!.getTime());
    const bad = await new Promise<{ code: number; details: string }>((resolve) => {
      const s = api.sessions.queryEvents(ms.QueryEventsRequest.fromPartial({ sessionId: session!.sessionId, query: { family: common.EventFamily.EVENT_FAMILY_SECURITY, filter: 'not json' } }), api.metadata);
      s.on('data', () => {});
      s.on('error', resolve);
    });
    expect(bad.code).toBe(3);
    expect(bad.details).toMatch(/^query_events.filter: must be a JSON object/);
  });

  type Steps = Array<{ name: string; outcome: string; detail: string }>;
  const doctor = (extra: string[] = []) =>
    new Promise<{ code: number; steps: Steps }>((resolve) => {
      execFile(process.execPath, [RECORDER, 'doctor', '--json', '--config', tmp.dir, ...extra], { cwd: workspaceRoot }, (err, stdout) => {
        resolve({ code: err ? (err as { code?: number }).code ?? 1 : 0, steps: (JSON.parse(stdout) as { routes: Array<{ steps: Steps }> }).routes[0]!.steps });
      });
    });

  it('doctor passes every step against a healthy broker, then names the broker refusing a revoked certificate', async () => {
    const ok = await doctor();
    expect(ok.steps.map((s) => [s.name, s.outcome])).toEqual([
      ['agent running', 'passed'], ['FQDN resolves', 'skipped'], ['TCP reachable', 'passed'], ['certificate valid', 'passed'],
      ['TLS handshake', 'passed'], ['broker accepts our certificate', 'passed'], ['clock skew', 'passed'],
    ]);
    expect(ok.code).toBe(0);
    const serial = h.broker.registry.find('intranet-server')!.certSerial!;
    h.ca.revoke(serial);
    const refused = await doctor();
    expect(refused.code).toBe(1);
    const step = refused.steps.find((s) => s.name === 'broker accepts our certificate');
    expect(step?.outcome).toBe('failed');
    expect(step?.detail).toMatch(/refused this endpoint's certificate \(certificate_revoked\)/);
  });

  it('doctor names an unreachable port', async () => {
    writePackage(join(tmp.dir, 'unreachable.json'), '127.0.0.1:1', h.ca.rootPem);
    const r = await doctor(['--configuration', join(tmp.dir, 'unreachable.json')]);
    expect(r.code).toBe(1);
    expect(r.steps.at(-1)).toMatchObject({ name: 'TCP reachable', outcome: 'failed', detail: expect.stringMatching(/ECONNREFUSED/) });
  });
});
