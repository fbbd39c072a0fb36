// The agent's side of Remove Tools and Goodbye over real gRPC/TLS (the gateway rig): RUNNING then
// SUCCEEDED, Goodbye TOOLS_REMOVED, stopped for good; a failed removal reports ERROR naming the
// file and the agent stays; a deliberate stop says Goodbye with its reason.
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { commonV1 as common, gatewayV1 as gateway } from '@dc/proto';
import { makeTempDir, waitFor } from '@dc/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EndpointAgent } from './endpoint-agent';
import { IdentityStore } from './identity-store';
import { removeItems, toolsRemovalPlan, type ToolsLayout } from './remove-tools';
import { GatewayRig, RIG_ENROLMENT_TOKEN, RigCa } from './testing/gateway-rig';

const S = common.ActionStatus;
const silent = { info: () => {}, warn: () => {}, debug: () => {} };

describe('Remove Tools and Goodbye in the endpoint agent', () => {
  let ca: RigCa;
  let rig: GatewayRig;
  const agents: EndpointAgent[] = [];
  const dirs: Array<ReturnType<typeof makeTempDir>> = [];
  beforeAll(async () => {
    ca = new RigCa();
    rig = await GatewayRig.start(ca, 'remove');
  });
  afterAll(async () => {
    await Promise.all(agents.map((a) => a.stop(200)));
    rig.close();
    for (const d of dirs) d.remove();
  });

  /** An enrolled, connected agent whose Remove Tools deletes its own temp tools directory. */
  async function startAgent(removeTools?: (withData: boolean, layout: ToolsLayout) => string) {
    const tmp = makeTempDir('dc-agent-remove-');
    dirs.push(tmp);
    const tools = join(tmp.dir, 'tools');
    mkdirSync(join(tools, 'keys'), { recursive: true });
    for (const f of ['configuration.json', 'connect.pid', 'monitor.db', 'keys/k1.json', 'recorder.json']) writeFileSync(join(tools, f), f);
    const layout: ToolsLayout = {
      toolsDir: tools, configurationFile: join(tools, 'configuration.json'), identityDir: join(tools, 'identity'), keysDir: join(tools, 'keys'), pidFile: join(tools, 'connect.pid'), monitorDb: join(tools, 'monitor.db'),
    };
    const removed: string[] = [];
    const agent = new EndpointAgent({
      brokerAddress: rig.address,
      caPem: ca.rootPem,
      enrolmentToken: RIG_ENROLMENT_TOKEN,
      identity: new IdentityStore(layout.identityDir),
      facts: () => ({ hostName: 'ws-rm', ipAddresses: ['10.0.0.7'], os: common.OperatingSystem.OPERATING_SYSTEM_LINUX, osVersion: '', architecture: 'x64', toolsVersion: 't', recorderVersion: 'r', actionLock: false }),
      handlers: {},
      log: silent,
      backoff: { baseMs: 20, maxMs: 100 },
      removeTools: removeTools ? (withData) => removeTools(withData, layout) : undefined,
      onToolsRemoved: (detail) => removed.push(detail),
    });
    agents.push(agent);
    agent.start();
    await waitFor(() => agent.state === 'connected' && agent.clientId, { what: 'the agent connected', timeoutMs: 15_000 });
    return { agent, layout, removed, clientId: agent.clientId! };
  }
  const removeTools = (removeRecorderData: boolean) => {
    const actionId = randomUUID();
    rig.send({ actionId, issuedTime: new Date(), expireTime: new Date(Date.now() + 60_000), kind: { $case: 'removeTools', value: { removeRecorderData } } });
    return actionId;
  };

  it('answers RUNNING then SUCCEEDED, deletes what it owns, says Goodbye TOOLS_REMOVED and stays stopped', async () => {
    const { agent, layout, removed, clientId } = await startAgent((withData, l) => `removed ${removeItems(toolsRemovalPlan(l, withData)).length} path(s)`);
    const hellos = rig.hellos.filter((h) => h.clientId === clientId).length;
    const actionId = removeTools(false);
    const outcome = await rig.outcome(actionId);
    expect(outcome).toMatchObject({ status: S.ACTION_STATUS_SUCCEEDED, detail: expect.stringMatching(/^removed \d+ path\(s\)$/) });
    expect(rig.statuses.filter((s) => s.actionId === actionId).map((s) => s.status)).toEqual([S.ACTION_STATUS_RUNNING, S.ACTION_STATUS_SUCCEEDED]);
    await waitFor(() => removed.length === 1, { what: 'the agent to stop itself' });
    expect(rig.goodbyes.filter((g) => g.clientId === clientId)).toEqual([{ reason: gateway.GoodbyeReason.GOODBYE_REASON_TOOLS_REMOVED, detail: outcome.detail, clientId }]);
    expect(agent.state).toBe('stopped');
    for (const p of [layout.identityDir, layout.configurationFile, layout.keysDir, layout.pidFile]) expect(existsSync(p), p).toBe(false);
    expect(existsSync(layout.monitorDb)).toBe(true); // recorder data only with remove_recorder_data
    // The run loop ended with stop(): no further hello from this endpoint.
    expect(rig.hellos.filter((h) => h.clientId === clientId).length).toBe(hellos);
    expect(rig.connected).toBe(false);
  });

  it('reports ERROR naming the file it could not remove, and stays connected', async () => {
    const { agent, removed } = await startAgent(() => {
      throw new Error('cannot remove /opt/dc/keys/k1.json: EACCES: permission denied');
    });
    const outcome = await rig.outcome(removeTools(true));
    expect(outcome).toMatchObject({ status: S.ACTION_STATUS_ERROR, failureReason: gateway.ActionFailureReason.ACTION_FAILURE_REASON_FAILED, detail: 'cannot remove /opt/dc/keys/k1.json: EACCES: permission denied' });
    expect(agent.state).toBe('connected');
    expect(removed).toEqual([]);
  });

  it('an agent without a removal answers NOT_SUCCEEDED / NOT_SUPPORTED', async () => {
    await startAgent();
    const outcome = await rig.outcome(removeTools(false));
    expect(outcome).toMatchObject({ status: S.ACTION_STATUS_NOT_SUCCEEDED, failureReason: gateway.ActionFailureReason.ACTION_FAILURE_REASON_NOT_SUPPORTED });
  });

  it('a deliberate stop says Goodbye with its reason before closing', async () => {
    const { agent, clientId } = await startAgent();
    await agent.stop(2000, { reason: gateway.GoodbyeReason.GOODBYE_REASON_MACHINE_SHUTDOWN, detail: 'SIGTERM while the system is stopping' });
    await waitFor(() => rig.goodbyes.find((g) => g.clientId === clientId), { what: 'the goodbye' });
    expect(rig.goodbyes.filter((g) => g.clientId === clientId)).toEqual([{ reason: gateway.GoodbyeReason.GOODBYE_REASON_MACHINE_SHUTDOWN, detail: 'SIGTERM while the system is stopping', clientId }]);
  });
});
