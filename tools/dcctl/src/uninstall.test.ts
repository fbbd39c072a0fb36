// dcctl uninstall against a real module server and cert-authority (processes) with a real
// endpoint agent connected: the plan, a refused confirmation, then the uninstall followed to DONE —
// the agent removes its tools and recorder data and exits, the server data is gone (SPEC 1.7.4).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir, type SpawnedService, waitFor } from '@dc/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RealServers, startAgent, startCaAndModuleServer } from './testing/real-servers';
import { dcctl } from './testing/run-dcctl';

const ADMIN = 'dcctl-uninstall-admin-token-0001';
const CONFIRMATION = 'UNINSTALL DIRECT CONNECT';

describe('dcctl uninstall against a real module server', () => {
  const tmp = makeTempDir('dcctl-uninstall-');
  let servers: RealServers;
  let agent: SpawnedService;
  let env: Record<string, string>;
  let api: string;
  const toolsDir = join(tmp.dir, 'agent');

  beforeAll(async () => {
    servers = await startCaAndModuleServer(tmp.dir, { [ADMIN]: 'ADMINISTRATOR' });
    api = servers.api;
    env = { DCCTL_CONFIG: join(tmp.dir, 'dcctl.json'), DCCTL_TOKEN: ADMIN };
    agent = await startAgent(servers, toolsDir, 'web-01');
    await waitFor(async () => (await run(['--json', 'endpoints', 'list', '--status', 'online'])).json<{ totalSize?: number }>().totalSize === 1, { timeoutMs: 30_000, what: 'web-01 online' });
  }, 90_000);

  afterAll(async () => {
    if (agent && agent.child.exitCode === null) await agent.stop('SIGKILL');
    await servers?.stop();
    tmp.remove();
  });

  const run = (args: string[]) => dcctl(['--api', api, ...args], { env });

  it('says no uninstall was started, then shows the plan per OS without changing anything', async () => {
    const none = await run(['uninstall', 'status']);
    expect(none.code, none.stderr).toBe(0);
    expect(none.stdout).toBe('no uninstall was started\n');
    const plan = await run(['uninstall', '--dry-run']);
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toContain('uninstall plan (nothing changed):');
    expect(plan.stdout).toMatch(/^phase: +planned$/m);
    expect(plan.stdout).toMatch(/^linux +1 +0 +0 +1$/m);
    const j = (await run(['--json', 'uninstall', '--dry-run'])).json<{ status: { phase: string; endpoints: Array<{ os: string; targeted: number }> } }>();
    expect(j.status.phase).toBe('UNINSTALL_PHASE_PLANNED');
    expect(j.status.endpoints).toEqual([expect.objectContaining({ os: 'OPERATING_SYSTEM_LINUX', targeted: 1 })]);
    expect(existsSync(join(toolsDir, 'identity', 'identity.json'))).toBe(true);
  });

  it('refuses a wrong confirmation before asking the server (exit 2), nothing changed', async () => {
    const r = await run(['uninstall', '--confirm', 'uninstall direct connect']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`must be exactly "${CONFIRMATION}"`);
    expect((await run(['uninstall', 'status'])).stdout).toBe('no uninstall was started\n');
  });

  it('uninstalls: the agent removes its tools and recorder data and exits 0, progress reaches DONE, the server data is gone', async () => {
    const r = await run(['uninstall', '--confirm', CONFIRMATION, '--remove-recorder-data', '--endpoint-timeout', '10m', '--poll', '100ms']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^phase: +done$/m);
    expect(r.stdout).toMatch(/^linux +1 +1 +0 +0$/m);
    expect(r.stdout).toMatch(/^detail: +every targeted endpoint answered$/m);
    await waitFor(() => agent.child.exitCode !== null, { timeoutMs: 20_000, what: 'the agent to exit' });
    expect(agent.child.exitCode).toBe(0);
    expect(existsSync(toolsDir)).toBe(false);
    const status = (await run(['--json', 'uninstall', 'status'])).json<{ status: { phase: string; finishTime?: string } }>();
    expect(status.status.phase).toBe('UNINSTALL_PHASE_DONE');
    expect(status.status.finishTime).toBeTruthy();
    expect((await run(['--json', 'endpoints', 'list'])).json()).toEqual({ endpoints: [], totalSize: 0 });
  });
});
