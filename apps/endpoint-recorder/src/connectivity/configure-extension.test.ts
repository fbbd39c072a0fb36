import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { commonV1 as common, gatewayV1 as gateway } from '@dc/proto';
import { makeTempDir, waitFor } from '@dc/service-kit/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConfigurationRejected, EndpointConfigurationState, validateConfiguration } from './configure-extension';
import { type ActionLockMode, EndpointAgent } from './endpoint-agent';
import { IdentityStore } from './identity-store';
import { routesFromConfiguration } from './routes';
import { GatewayRig, RIG_ENROLMENT_TOKEN, RigCa } from './testing/gateway-rig';

const ACTION_TOKEN = 'ACTION-TOKEN-must-never-be-written';
const FILTERS_OK = JSON.stringify({ version: 1, rules: [] });

let ca: RigCa;
beforeAll(() => {
  ca = new RigCa();
});

function config(partial: Partial<common.EndpointConfiguration> = {}): common.EndpointConfiguration {
  return common.EndpointConfiguration.fromPartial({
    revision: 2,
    brokerHost: '127.0.0.1',
    brokerPort: 17475,
    trustBundlePem: ca.rootPem,
    heartbeatPolicy: { interval: { seconds: 30, nanos: 0 }, missedHeartbeatsBeforeOffline: 3 },
    actionLockMode: common.ActionLockMode.ACTION_LOCK_MODE_BLOCK_ALL,
    logLevel: common.LogLevel.LOG_LEVEL_INFO,
    ...partial,
  });
}

/** A tools directory as a package leaves it: configuration.json (with its token) and recorder.json. */
function toolsDir(tmp: string, initial: common.EndpointConfiguration) {
  const files = { configurationFile: join(tmp, 'configuration.json'), recorderConfigDir: tmp };
  writeFileSync(files.configurationFile, JSON.stringify(common.EndpointConfiguration.toJSON(initial)), { mode: 0o600 });
  writeFileSync(join(tmp, 'recorder.json'), '{"logLevel":"info"}\n');
  return { files, state: new EndpointConfigurationState(initial, files) };
}

const read = (path: string) => readFileSync(path, 'utf8');
const stored = (path: string) => common.EndpointConfiguration.fromJSON(JSON.parse(read(path)));

describe('checking a configuration', () => {
  it.each<[string, Partial<common.EndpointConfiguration>, RegExp]>([
    ['configuration.revision', { revision: 0 }, /must be a positive integer \(got 0\)/],
    ['configuration.broker_host', { brokerHost: 'exa mple.com' }, /host name, FQDN or IP address \(got "exa mple.com"\)/],
    ['configuration.broker_port', { brokerPort: 70000 }, /1 to 65535.*\(got 70000\)/],
    ['configuration.trust_bundle_pem', { trustBundlePem: 'not a pem' }, /at least one PEM certificate/],
    ['configuration.zone_routes[0].port', { zoneRoutes: [{ zoneProxyId: 'z', zoneProxyName: 'dmz', host: 'dmz.example', port: -1 }] }, /got -1/],
    ['configuration.zone_routes', { directRouteDisabled: true }, /must list a zone route when direct_route_disabled is set/],
    ['configuration.heartbeat_policy.interval', { heartbeatPolicy: { interval: { seconds: 1, nanos: 0 }, missedHeartbeatsBeforeOffline: 3, direction: 0 } }, /5 s to 1 h \(got 1 s\)/],
    ['configuration.log_level', { logLevel: 42 as common.LogLevel }, /known log level \(got 42\)/],
    ['configuration.recorder_files[0].name', { recorderFiles: [{ name: '../etc/passwd.json', content: '{}' }] }, /without path separators/],
    ['configuration.recorder_files[0].name', { recorderFiles: [{ name: 'configuration.json', content: '{}' }] }, /which the agent owns/],
    ['configuration.recorder_files[1].name', { recorderFiles: [{ name: 'a.json', content: '{}' }, { name: 'a.json', content: '{}' }] }, /must be unique/],
    ['configuration.recorder_files[0].content', { recorderFiles: [{ name: 'recorder.json', content: '{"logLevel":' }] }, /recorder.json is not valid JSON/],
  ])('refuses a bad %s', (field, partial, rule) => {
    let caught: unknown;
    try {
      validateConfiguration(config(partial));
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ConfigurationRejected);
    expect((caught as ConfigurationRejected).field).toBe(field);
    expect((caught as Error).message).toMatch(rule);
  });

  it('accepts a complete configuration', () => {
    expect(() => validateConfiguration(config({ recorderFiles: [{ name: 'im_recorder.json', content: '{}' }] }))).not.toThrow();
  });
});

describe('applying a configuration on the endpoint', () => {
  let tmp = makeTempDir('dc-configure-');
  afterEach(() => {
    tmp.remove();
    tmp = makeTempDir('dc-configure-');
  });

  it('writes the recorder files and configuration.json (0600), dropping every enrolment token once enrolled', () => {
    const { files, state } = toolsDir(tmp.dir, config({ revision: 1, enrolmentToken: 'package-token' }));
    const applied = state.apply(
      config({ revision: 3, enrolmentToken: ACTION_TOKEN, brokerHost: 'dc.corp.example', logLevel: common.LogLevel.LOG_LEVEL_DEBUG, recorderFiles: [{ name: 'recorder.json', content: '{"logLevel":"debug"}' }, { name: 'filters.json', content: FILTERS_OK }] }),
      { enrolled: true },
    );
    expect(applied).toMatchObject({ revision: 3, routesChanged: true, recorderFiles: ['recorder.json', 'filters.json'], routes: [{ name: 'direct', address: 'dc.corp.example:17475' }] });
    expect(read(join(tmp.dir, 'recorder.json'))).toBe('{"logLevel":"debug"}');
    expect(read(join(tmp.dir, 'filters.json'))).toBe(FILTERS_OK);
    expect(stored(files.configurationFile)).toMatchObject({ revision: 3, brokerHost: 'dc.corp.example', enrolmentToken: '' });
    expect(read(files.configurationFile)).not.toContain(ACTION_TOKEN);
    expect(statSync(files.configurationFile).mode & 0o777).toBe(0o600);
    expect([state.revision(), state.logLevel()]).toEqual([3, 'debug']);
  });

  it('keeps the package\'s enrolment token while the endpoint is not enrolled yet, never the action\'s', () => {
    const { files, state } = toolsDir(tmp.dir, config({ revision: 1, enrolmentToken: 'package-token' }));
    state.apply(config({ revision: 2, enrolmentToken: ACTION_TOKEN }), { enrolled: false });
    expect(stored(files.configurationFile)).toMatchObject({ revision: 2, enrolmentToken: 'package-token' });
    expect(read(files.configurationFile)).not.toContain(ACTION_TOKEN);
  });

  it('refuses a set with one invalid recorder file and writes nothing at all', () => {
    const { files, state } = toolsDir(tmp.dir, config({ revision: 1 }));
    const before = read(files.configurationFile);
    const bad = config({
      revision: 2,
      recorderFiles: [
        { name: 'im_recorder.json', content: '{"maxSizeMB": 2048}' },
        { name: 'recorder.json', content: '{"maxSizeMB": "lots"}' },
      ],
    });
    expect(() => state.apply(bad, { enrolled: true })).toThrow(ConfigurationRejected);
    try {
      state.apply(bad, { enrolled: true });
    } catch (err) {
      expect((err as ConfigurationRejected).field).toBe('configuration.recorder_files[1]');
      expect((err as Error).message).toMatch(/recorder\.json: key "maxSizeMB"/);
    }
    expect(existsSync(join(tmp.dir, 'im_recorder.json'))).toBe(false);
    expect(read(join(tmp.dir, 'recorder.json'))).toBe('{"logLevel":"info"}\n');
    expect(read(files.configurationFile)).toBe(before);
    expect(state.revision()).toBe(1);
  });

  it('refuses a filters file the filter language rejects, naming it', () => {
    const { files, state } = toolsDir(tmp.dir, config({ revision: 1 }));
    const before = read(files.configurationFile);
    let caught: ConfigurationRejected | undefined;
    try {
      state.apply(config({ revision: 2, recorderFiles: [{ name: 'map_filters.json', content: '{"version":1,"rules":[{"action":"drop"}]}' }] }), { enrolled: true });
    } catch (err) {
      caught = err as ConfigurationRejected;
    }
    expect(caught?.field).toBe('configuration.recorder_files[0]');
    expect(caught?.message).toMatch(/map_filters\.json/);
    expect(existsSync(join(tmp.dir, 'map_filters.json'))).toBe(false);
    expect(read(files.configurationFile)).toBe(before);
  });
});

describe('Configure Extension through the control channel (real gRPC and TLS)', () => {
  let direct: GatewayRig;
  let other: GatewayRig;
  const agents: EndpointAgent[] = [];
  const dirs: Array<{ remove(): void }> = [];
  beforeAll(async () => {
    [direct, other] = await Promise.all([GatewayRig.start(ca, 'direct'), GatewayRig.start(ca, 'other')]);
  });
  afterAll(async () => {
    await Promise.all(agents.map((a) => a.stop(200)));
    direct.close();
    other.close();
    for (const d of dirs) d.remove();
  });

  const silent = { info: () => {}, warn: () => {}, debug: () => {} };
  const portOf = (rig: GatewayRig) => Number(rig.address.split(':')[1]);

  /** An enrolled, connected agent on `direct` with a package of revision 1. */
  async function startAgent(opts: { actionLock?: boolean; lockMode?: () => ActionLockMode } = {}) {
    const tmp = makeTempDir('dc-agent-configure-');
    dirs.push(tmp);
    const initial = config({ revision: 1, brokerPort: portOf(direct), enrolmentToken: RIG_ENROLMENT_TOKEN });
    const { files, state } = toolsDir(tmp.dir, initial);
    const agent = new EndpointAgent({
      brokerAddress: direct.address,
      routes: routesFromConfiguration(initial),
      caPem: ca.rootPem,
      enrolmentToken: RIG_ENROLMENT_TOKEN,
      identity: new IdentityStore(join(tmp.dir, 'identity')),
      facts: () => ({ hostName: 'ws-cfg', ipAddresses: ['10.0.0.9'], os: common.OperatingSystem.OPERATING_SYSTEM_LINUX, osVersion: '', architecture: 'x64', toolsVersion: 't', recorderVersion: 'r', actionLock: opts.actionLock ?? false }),
      actionLockMode: opts.lockMode ?? (() => state.actionLockMode()),
      handlers: {},
      log: silent,
      backoff: { baseMs: 20, maxMs: 100 },
      configuration: { revision: () => state.revision(), apply: (c, o) => state.apply(c, o) },
    });
    agents.push(agent);
    agent.start();
    const hello = await waitFor(() => (agent.clientId ? direct.hellos.find((h) => h.clientId === agent.clientId) : undefined), { what: 'the agent hello', timeoutMs: 15_000 });
    await waitFor(() => agent.state === 'connected', { what: 'the channel up' });
    return { agent, files, state, hello, dir: tmp.dir };
  }

  const configure = (rig: GatewayRig, configuration: common.EndpointConfiguration): string => {
    const actionId = randomUUID();
    rig.send({ actionId, issuedTime: new Date(), expireTime: new Date(Date.now() + 60_000), kind: { $case: 'configureExtension', value: { configuration } } });
    return actionId;
  };

  it('applies a newer configuration, reconnects over its new route and reports the new revision in the next hello', async () => {
    const { agent, files, state, hello, dir } = await startAgent();
    expect(hello.configurationRevision).toBe(1);
    const next = config({
      revision: 7,
      brokerPort: portOf(other),
      enrolmentToken: ACTION_TOKEN,
      heartbeatPolicy: { interval: { seconds: 10, nanos: 0 }, missedHeartbeatsBeforeOffline: 3, direction: 0 },
      actionLockMode: common.ActionLockMode.ACTION_LOCK_MODE_ALLOW_NEW_CONNECTIONS_AND_CONFIGURATION,
      logLevel: common.LogLevel.LOG_LEVEL_DEBUG,
      recorderFiles: [{ name: 'recorder.json', content: '{"logLevel":"debug","maxSizeMB":2048}' }],
    });
    const outcome = await direct.outcome(configure(direct, next));
    expect(outcome).toMatchObject({ status: common.ActionStatus.ACTION_STATUS_SUCCEEDED, detail: expect.stringMatching(/content revision 7 applied/) });

    const again = await waitFor(() => other.hellos.find((h) => h.clientId === agent.clientId), { what: 'a hello on the new route', timeoutMs: 15_000 });
    expect(again.configurationRevision).toBe(7);
    expect(agent.route.address).toBe(other.address);
    expect(read(join(dir, 'recorder.json'))).toBe('{"logLevel":"debug","maxSizeMB":2048}');
    expect(stored(files.configurationFile)).toMatchObject({ revision: 7, brokerPort: portOf(other), enrolmentToken: '' });
    expect(read(files.configurationFile)).not.toContain(ACTION_TOKEN);
    expect(read(files.configurationFile)).not.toContain(RIG_ENROLMENT_TOKEN);
    expect([state.actionLockMode(), state.logLevel()]).toEqual(['ALLOW_NEW_CONNECTIONS_AND_CONFIGURATION', 'debug']);
  });

  it('refuses an invalid recorder file with NOT_SUCCEEDED naming it, and changes nothing', async () => {
    const { agent, files, dir } = await startAgent();
    const before = read(files.configurationFile);
    const outcome = await direct.outcome(configure(direct, config({ revision: 8, brokerPort: portOf(direct), recorderFiles: [{ name: 'recorder.json', content: '{"cpuThreshold": 7}' }] })));
    expect(outcome.status).toBe(common.ActionStatus.ACTION_STATUS_NOT_SUCCEEDED);
    expect(outcome.failureReason).toBe(gateway.ActionFailureReason.ACTION_FAILURE_REASON_FAILED);
    expect(outcome.detail).toMatch(/^configuration\.recorder_files\[0\]: recorder\.json: key "cpuThreshold"/);
    expect(read(join(dir, 'recorder.json'))).toBe('{"logLevel":"info"}\n');
    expect(read(files.configurationFile)).toBe(before);
    expect(agent.state).toBe('connected');
  });

  it('applies a new heartbeat interval to the open channel', async () => {
    const { agent } = await startAgent();
    expect(agent.stats.heartbeats).toBe(0); // the rig's HelloAck says every 30 s
    const outcome = await direct.outcome(configure(direct, config({ revision: 4, brokerPort: portOf(direct), heartbeatPolicy: { interval: { seconds: 5, nanos: 0 }, missedHeartbeatsBeforeOffline: 3, direction: 0 } })));
    expect(outcome.status).toBe(common.ActionStatus.ACTION_STATUS_SUCCEEDED);
    await waitFor(() => agent.stats.heartbeats > 0, { what: 'a heartbeat at the new 5 s interval', timeoutMs: 9000 });
    expect(agent.stats.connects).toBe(1); // same channel
  });

  it.each<[ActionLockMode, boolean]>([
    ['BLOCK_ALL', false],
    ['ALLOW_NEW_CONNECTIONS', false],
    ['ALLOW_NEW_CONNECTIONS_AND_CONFIGURATION', true],
  ])('with action lock on and lock mode %s, accepts it: %s', async (mode, accepted) => {
    const { files } = await startAgent({ actionLock: true, lockMode: () => mode });
    const outcome = await direct.outcome(configure(direct, config({ revision: 9, brokerPort: portOf(direct) })));
    if (accepted) {
      expect(outcome.status).toBe(common.ActionStatus.ACTION_STATUS_SUCCEEDED);
      expect(stored(files.configurationFile).revision).toBe(9);
    } else {
      expect(outcome).toMatchObject({ status: common.ActionStatus.ACTION_STATUS_NOT_SUCCEEDED, failureReason: gateway.ActionFailureReason.ACTION_FAILURE_REASON_ACTION_LOCKED });
      expect(outcome.detail).toMatch(/action lock is on/);
      expect(stored(files.configurationFile).revision).toBe(1);
    }
  });
});
