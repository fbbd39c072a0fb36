// Cross-process: a real endpoint agent process (apps/endpoint-recorder connectivity) enrols,
// connects over mutual TLS and answers a session's event query from a monitor.db that the real
// recorder filled by replaying an audit corpus.
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir, sharedRoot, spawnService, type SpawnedService, waitFor, workspaceRoot } from '@dc/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { common, moduleserver as ms } from '../contracts';
import { type Harness, startHarness, TOKENS, unary } from '../testing/broker-harness';

const CORPUS = join(sharedRoot, 'corpora', 'LLM-log-parsing', 'russelmitchell_intranet_server_audit.log');
const RECORDER = join(workspaceRoot, 'apps', 'endpoint-recorder', 'dist', 'main.cjs');
const AGENT = join(workspaceRoot, 'apps', 'endpoint-recorder', 'src', 'connectivity', 'run-agent.ts');
const TSX = join(workspaceRoot, 'node_modules', 'tsx', 'dist', 'cli.mjs');

describe('a session to a real endpoint agent process', () => {
  let h: Harness;
  let agent: SpawnedService;
  const tmp = makeTempDir('dc-e2e-');
  beforeAll(async () => {
    if (!existsSync(RECORDER)) execFileSync(process.execPath, [join(workspaceRoot, 'tools', 'build', 'build.mjs'), 'apps/endpoint-recorder'], { cwd: workspaceRoot });
    execFileSync(process.execPath, [RECORDER, 'replay', CORPUS, '--config', tmp.dir, '--json'], { cwd: tmp.dir });
    h = await startHarness();
    writeFileSync(join(tmp.dir, 'ca.pem'), h.ca.rootPem);
    writeFileSync(join(tmp.dir, 'token'), h.ca.createEnrolmentToken(), { mode: 0o600 });
    agent = await spawnService({
      entry: TSX,
      args: [AGENT, '--broker', h.gatewayAddress(), '--ca-file', join(tmp.dir, 'ca.pem'), '--token-file', join(tmp.dir, 'token'), '--identity-dir', join(tmp.dir, 'identity'), '--monitor-db', join(tmp.dir, 'monitor.db'), '--host-name', 'intranet-server'],
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

  const doctor = (extra: string[] = []) =>
    new Promise<{ code: number; steps: Array<{ name: string; outcome: string; detail: string }> }>((resolve) => {
      execFile(process.execPath, [TSX, AGENT, '--doctor', '--broker', h.gatewayAddress(), '--ca-file', join(tmp.dir, 'ca.pem'), '--identity-dir', join(tmp.dir, 'identity'), ...extra], { cwd: workspaceRoot }, (err, stdout) => {
        resolve({ code: err ? (err as { code?: number }).code ?? 1 : 0, steps: (JSON.parse(stdout) as { steps: never[] }).steps });
      });
    });

  it('doctor passes every step against a healthy broker, then names the broker refusing a revoked certificate', async () => {
    const ok = await doctor();
    expect(ok.steps.map((s) => [s.name, s.outcome])).toEqual([
      ['agent running', 'skipped'], ['FQDN resolves', 'skipped'], ['TCP reachable', 'passed'], ['certificate valid', 'passed'],
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
    const r = await new Promise<{ steps: Array<{ name: string; outcome: string; detail: string }> }>((resolve) => {
      execFile(process.execPath, [TSX, AGENT, '--doctor', '--broker', '127.0.0.1:1', '--ca-file', join(tmp.dir, 'ca.pem'), '--identity-dir', join(tmp.dir, 'identity')], { cwd: workspaceRoot }, (_err, stdout) => resolve(JSON.parse(stdout) as never));
    });
    expect(r.steps.at(-1)).toMatchObject({ name: 'TCP reachable', outcome: 'failed', detail: expect.stringMatching(/ECONNREFUSED/) });
  });
});
