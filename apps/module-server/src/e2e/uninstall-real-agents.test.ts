// Cross-process: real `recorder connect` agents against a real broker. SIGTERM makes an agent say
// Goodbye AGENT_STOPPED; Uninstall (SPEC 1.7.4) sends Remove Tools, the agents delete their own
// files (and monitor.db, with remove_recorder_data) without following a link out, say Goodbye
// TOOLS_REMOVED, exit 0 and stay gone; an agent that is away is waited for until the endpoint
// timeout; then the broker's data is removed.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir, spawnService, type SpawnedService, waitFor, workspaceRoot } from '@dc/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { common, moduleserver as ms } from '../contracts';
import type { BrokerEvent } from '../events/event-log';
import { type Harness, startHarness, TOKENS, unary } from '../testing/broker-harness';
import { CONFIRMATION } from '../uninstall/uninstaller';

const RECORDER = join(workspaceRoot, 'apps', 'endpoint-recorder', 'dist', 'main.cjs');

describe('uninstall with real endpoint agents', () => {
  let h: Harness;
  const tmp = makeTempDir('dc-uninstall-e2e-');
  const agents = new Map<string, SpawnedService>();
  const outside = join(tmp.dir, 'outside.txt');
  const events: BrokerEvent[] = [];

  /** A tools directory with the package's configuration.json and a link out of it that must survive. */
  async function startAgent(name: string): Promise<SpawnedService> {
    const dir = join(tmp.dir, name);
    mkdirSync(join(dir, 'keys'), { recursive: true });
    symlinkSync(outside, join(dir, 'keys', 'link-out'));
    const gw = h.gatewayAddress();
    const configuration = common.EndpointConfiguration.fromPartial({
      revision: 1, brokerHost: gw.slice(0, gw.lastIndexOf(':')), brokerPort: Number(gw.slice(gw.lastIndexOf(':') + 1)), trustBundlePem: h.ca.rootPem, enrolmentToken: h.ca.createEnrolmentToken(),
    });
    writeFileSync(join(dir, 'configuration.json'), JSON.stringify(common.EndpointConfiguration.toJSON(configuration)), { mode: 0o600 });
    const agent = await spawnService({ entry: RECORDER, args: ['connect', '--config', dir, '--host-name', name], startTimeoutMs: 30_000 });
    agents.set(name, agent);
    await waitFor(() => h.broker.registry.find(name)?.status === 'ONLINE', { timeoutMs: 30_000, what: `${name} online` });
    return agent;
  }
  const exited = (a: SpawnedService) => waitFor(() => a.child.exitCode !== null && { code: a.child.exitCode }, { timeoutMs: 20_000, what: 'the agent to exit' });
  const progress = async () => {
    const api = h.api(TOKENS.admin);
    return (await unary(api.admin.getUninstallStatus.bind(api.admin), {}, api.metadata)).status!;
  };

  beforeAll(async () => {
    // The agent under test is this checkout's: build it (atomic replace, so other tests never see half a file).
    execFileSync(process.execPath, [join(workspaceRoot, 'tools', 'build', 'build.mjs'), 'apps/endpoint-recorder'], { cwd: workspaceRoot });
    writeFileSync(outside, 'not the agent\'s');
    h = await startHarness();
    h.broker.events.subscribe((e) => events.push(e));
    await Promise.all(['agent-a', 'agent-b', 'agent-c'].map((n) => startAgent(n)));
  }, 90_000);
  afterAll(async () => {
    for (const a of agents.values()) if (a.child.exitCode === null && a.child.signalCode === null) await a.stop('SIGKILL');
    await h?.close();
    tmp.remove();
  });

  it('an agent stopped by SIGTERM says Goodbye AGENT_STOPPED and exits 0', async () => {
    const c = agents.get('agent-c')!;
    const clientId = h.broker.registry.find('agent-c')!.clientId;
    expect(await c.stop('SIGTERM')).toBe(0);
    await waitFor(() => h.broker.registry.get(clientId)?.connectedAt === null, { what: 'agent-c disconnected' });
    const rec = h.broker.registry.require(clientId);
    expect(rec.goodbyeReason).toBe('AGENT_STOPPED');
    expect(rec.lastDisconnectDetail).toBe('goodbye AGENT_STOPPED: the agent was stopped on the endpoint (recorder connect stopped by SIGTERM)');
    expect(rec.status).toBe('ONLINE'); // until its heartbeats are missed (SPEC §3.1)
  });

  it('Remove Tools: the agents delete their files and recorder data, say goodbye, exit 0 and stay gone; the absent one times out; broker data goes', async () => {
    const ids = Object.fromEntries(['agent-a', 'agent-b', 'agent-c'].map((n) => [n, h.broker.registry.find(n)!.clientId]));
    for (const n of ['agent-a', 'agent-b']) {
      for (const f of ['configuration.json', 'identity/identity.json', 'identity/endpoint.key', 'monitor.db', 'connect.pid']) expect(existsSync(join(tmp.dir, n, f)), `${n}/${f}`).toBe(true);
    }
    const api = h.api(TOKENS.admin);
    const { status: started } = await unary(
      api.admin.uninstall.bind(api.admin),
      ms.UninstallRequest.fromPartial({ confirmation: CONFIRMATION, removeRecorderData: true, endpointTimeout: { seconds: 600, nanos: 0 } }),
      api.metadata,
    );
    expect(started!.phase).toBe(ms.UninstallPhase.UNINSTALL_PHASE_REMOVING_FROM_ENDPOINTS);
    expect(started!.endpoints).toEqual([{ os: common.OperatingSystem.OPERATING_SYSTEM_LINUX, targeted: 3, succeeded: 0, failed: 0, pending: 3 }]);

    for (const n of ['agent-a', 'agent-b']) expect(await exited(agents.get(n)!)).toEqual({ code: 0 });
    await waitFor(async () => (await progress()).endpoints[0]?.succeeded === 2, { timeoutMs: 20_000, what: 'both agents counted' });
    // Each said goodbye with TOOLS_REMOVED before it left.
    for (const n of ['agent-a', 'agent-b']) await waitFor(() => events.some((e) => e.kind === 'ENDPOINT_REMOVED' && e.clientId === ids[n]), { what: `${n}'s Goodbye TOOLS_REMOVED` });
    for (const n of ['agent-a', 'agent-b']) {
      expect(existsSync(join(tmp.dir, n)), `${n} tools directory`).toBe(false);
      expect(agents.get(n)!.logs.some((l) => l.msg === 'Direct Connect tools removed; not reconnecting')).toBe(true);
    }
    expect(readFileSync(outside, 'utf8')).toBe('not the agent\'s');
    // agent-c is away (stopped): still pending, its files untouched.
    const waiting = await progress();
    expect(waiting.phase).toBe(ms.UninstallPhase.UNINSTALL_PHASE_REMOVING_FROM_ENDPOINTS);
    expect(waiting.endpoints[0]).toMatchObject({ targeted: 3, succeeded: 2, pending: 1 });
    expect(existsSync(join(tmp.dir, 'agent-c', 'identity', 'identity.json'))).toBe(true);

    h.clock.advance(600_000);
    const done = await progress();
    expect(done.phase).toBe(ms.UninstallPhase.UNINSTALL_PHASE_DONE);
    expect(done.detail).toBe(`1 endpoint(s) did not answer within 10 min: ${ids['agent-c']}`);
    expect(h.broker.registry.list()).toEqual([]);
    expect(h.broker.hub.size).toBe(0);
    expect(h.broker.events.list().map((e) => e.kind)).toEqual(['UNINSTALL_FINISHED']);
  });
});
