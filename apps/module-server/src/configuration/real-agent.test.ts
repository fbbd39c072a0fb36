// Cross-process: the real endpoint agent (`recorder connect`) receives Configure Extension from the
// broker, writes its configuration.json and recorder files, refuses an invalid recorder file
// without writing anything, and reports the revision it runs when it comes back.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir, spawnService, type SpawnedService, waitFor, workspaceRoot } from '@dc/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { common } from '../contracts';
import { type Harness, startHarness } from '../testing/broker-harness';

const RECORDER = join(workspaceRoot, 'apps', 'endpoint-recorder', 'dist', 'main.cjs');

describe('Configure Extension to a real endpoint agent process', () => {
  let h: Harness;
  let agent: SpawnedService | undefined;
  const tmp = makeTempDir('dc-configure-agent-');
  const configurationFile = join(tmp.dir, 'configuration.json');
  const start = () => spawnService({ entry: RECORDER, args: ['connect', '--config', tmp.dir, '--host-name', 'cfg-agent'], startTimeoutMs: 30_000 });
  const stored = () => common.EndpointConfiguration.fromJSON(JSON.parse(readFileSync(configurationFile, 'utf8')));
  const build = (revision: number, recorderJson: string, logLevel = common.LogLevel.LOG_LEVEL_DEBUG) => {
    const [host, port] = [h.gatewayAddress().split(':')[0]!, Number(h.gatewayAddress().split(':')[1])];
    return h.settings.publishContent(`build-${revision}`, revision, [
      ['linux', common.EndpointConfiguration.fromPartial({
        revision, brokerHost: host, brokerPort: port, trustBundlePem: h.ca.rootPem, enrolmentToken: 'build-token-never-sent',
        actionLockMode: common.ActionLockMode.ACTION_LOCK_MODE_ALLOW_NEW_CONNECTIONS_AND_CONFIGURATION, logLevel,
        recorderFiles: [{ name: 'recorder.json', content: recorderJson }],
      })],
    ]);
  };

  beforeAll(async () => {
    if (!existsSync(RECORDER)) execFileSync(process.execPath, [join(workspaceRoot, 'tools', 'build', 'build.mjs'), 'apps/endpoint-recorder'], { cwd: workspaceRoot });
    h = await startHarness();
    const [host, port] = [h.gatewayAddress().split(':')[0]!, Number(h.gatewayAddress().split(':')[1])];
    // The package as installed: revision 1, with its enrolment token.
    const pkg = common.EndpointConfiguration.fromPartial({ revision: 1, brokerHost: host, brokerPort: port, trustBundlePem: h.ca.rootPem, enrolmentToken: h.ca.createEnrolmentToken() });
    writeFileSync(configurationFile, JSON.stringify(common.EndpointConfiguration.toJSON(pkg)), { mode: 0o600 });
    writeFileSync(join(tmp.dir, 'recorder.json'), '{"logLevel":"info"}\n');
  }, 60_000);
  afterAll(async () => {
    await agent?.stop();
    await h?.close();
    tmp.remove();
  });

  it('applies the newest build, refuses an invalid one untouched, and reports its revision when it comes back', async () => {
    build(5, '{"logLevel":"debug","maxSizeMB":2048}');
    agent = await start();
    const ep = await waitFor(() => h.broker.registry.find('cfg-agent'), { what: 'the agent known', timeoutMs: 30_000 });
    const id = ep.clientId;
    await waitFor(() => h.broker.registry.require(id).configureStatus === 'SUCCEEDED', { what: 'build 5 applied', timeoutMs: 20_000 });
    expect(h.broker.registry.require(id)).toMatchObject({ configurationRevision: 5, configureDetail: expect.stringMatching(/content revision 5 applied/) });
    expect(stored()).toMatchObject({ revision: 5, enrolmentToken: '', logLevel: common.LogLevel.LOG_LEVEL_DEBUG });
    expect(readFileSync(configurationFile, 'utf8')).not.toContain('build-token-never-sent');
    expect(readFileSync(join(tmp.dir, 'recorder.json'), 'utf8')).toBe('{"logLevel":"debug","maxSizeMB":2048}');

    build(6, '{"maxSizeMB":"lots"}');
    await waitFor(() => h.broker.registry.require(id).configureStatus === 'NOT_SUCCEEDED' && h.broker.registry.require(id).configureRevision === 6, { what: 'build 6 refused', timeoutMs: 20_000 });
    expect(h.broker.registry.require(id).configureDetail).toMatch(/^configuration\.recorder_files\[0\]: recorder\.json: key "maxSizeMB"/);
    expect(h.broker.events.list({ clientId: id }).map((e) => e.kind).filter((k) => k.startsWith('CONFIGURATION_'))).toEqual(['CONFIGURATION_DEPLOYED', 'CONFIGURATION_FAILED']);
    expect(stored().revision).toBe(5);
    expect(readFileSync(join(tmp.dir, 'recorder.json'), 'utf8')).toBe('{"logLevel":"debug","maxSizeMB":2048}');

    // Build 7 sets the agent's log level to warn, live: its own "configuration applied" line is not
    // printed; build 8 puts it back to info (the line is printed once the level applies).
    build(7, '{"logLevel":"info","maxSizeMB":2048}', common.LogLevel.LOG_LEVEL_WARN);
    await waitFor(() => h.broker.registry.require(id).configurationRevision === 7, { what: 'build 7 applied', timeoutMs: 20_000 });
    build(8, '{"logLevel":"info","maxSizeMB":2048}', common.LogLevel.LOG_LEVEL_INFO);
    await waitFor(() => h.broker.registry.require(id).configurationRevision === 8, { what: 'build 8 applied', timeoutMs: 20_000 });
    expect(agent.logs.filter((l) => l.msg === 'configuration applied').map((l) => l.revision)).toEqual([5, 8]);

    // Restarted, it reads configuration.json back and says revision 8 in its hello.
    await agent.stop();
    await waitFor(() => h.broker.registry.require(id).status === 'OFFLINE' || !h.broker.hub.isConnected(id), { what: 'the agent gone' });
    const lastAction = h.broker.registry.require(id).configureActionId;
    h.broker.registry.patch(id, { configurationRevision: 0 });
    agent = await start();
    await waitFor(() => h.broker.hub.isConnected(id) && h.broker.registry.require(id).configurationRevision === 8, { what: 'the hello to report revision 8', timeoutMs: 30_000 });
    await h.broker.hub.ping(id, 5000);
    expect(h.broker.registry.require(id).configureActionId).toBe(lastAction); // nothing sent again
    expect(stored().revision).toBe(8);
  }, 90_000);
});
