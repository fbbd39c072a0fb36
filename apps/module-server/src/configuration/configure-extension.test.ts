import { waitFor } from '@dc/service-kit/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ControlChannelHub, type LiveChannel } from '../gateway/control-channels';
import { common, gateway } from '../contracts';
import { type Harness, startHarness, unary } from '../testing/broker-harness';
import { brokerFixture, FACTS } from '../testing/broker-fixture';
import { TestEndpoint } from '../testing/test-endpoint';
import { StaticSettings } from '../settings-link/settings-source';
import { ConfigurationDeployer } from './configuration-deployer';

const TOKEN = 'enrol-SECRET-4f1c9a';

function configuration(revision: number, caPem: string): common.EndpointConfiguration {
  return common.EndpointConfiguration.fromPartial({
    revision,
    brokerHost: 'dc.corp.example',
    brokerPort: 17475,
    trustBundlePem: caPem,
    enrolmentToken: TOKEN,
    heartbeatPolicy: { interval: { seconds: 20, nanos: 0 }, missedHeartbeatsBeforeOffline: 3 },
    actionLockMode: common.ActionLockMode.ACTION_LOCK_MODE_ALLOW_NEW_CONNECTIONS_AND_CONFIGURATION,
    recorderFiles: [{ name: 'recorder.json', content: '{"logLevel":"debug"}' }],
    logLevel: common.LogLevel.LOG_LEVEL_DEBUG,
  });
}

describe('Configure Extension from the broker (real gRPC and mutual TLS)', () => {
  let h: Harness;
  let revision = 10;
  const publish = () => {
    revision++;
    return h.settings.publishContent(`build-${revision}`, revision, [['linux', configuration(revision, h.ca.rootPem)]]);
  };
  const eventsOf = (clientId: string) => h.broker.events.list({ clientId }).filter((e) => e.kind.startsWith('CONFIGURATION_'));
  /** A round trip over the control channel: whatever the broker sent at hello has arrived. */
  const settled = async (ep: TestEndpoint) => {
    await h.broker.hub.ping(ep.identity.clientId, 5000);
  };
  const again = async (ep: TestEndpoint, opts: Partial<ConstructorParameters<typeof TestEndpoint>[2]> = {}) => {
    ep.close();
    await waitFor(() => !h.broker.hub.isConnected(ep.identity.clientId), { what: 'the old channel to close' });
    const next = new TestEndpoint(h.gatewayAddress(), ep.identity, { ...ep.opts, configurationRevision: ep.configurationRevision, ...opts });
    await next.connect();
    return next;
  };

  beforeAll(async () => {
    h = await startHarness({ configurationSpreadMs: 300 });
  });
  afterAll(async () => {
    await h.close();
  });
  beforeEach(() => {
    h.settings.lockMode = 'BLOCK_ALL';
    h.settings.actionGroup = null;
  });

  it('sends the newest build, without its enrolment token, to an endpoint that connects with an older revision, and shows the revision it then runs', async () => {
    publish();
    const ep = await h.endpoint('cfg-01.corp.example', { configurationRevision: 2 });
    const id = ep.identity.clientId;
    expect(ep.helloAck?.latestConfigurationRevision).toBe(revision);
    await waitFor(() => h.broker.registry.require(id).configureStatus === 'SUCCEEDED', { what: 'the Configure Extension action to succeed' });

    expect(ep.configureActions).toHaveLength(1);
    const action = ep.configureActions[0]!;
    const sent = action.kind?.$case === 'configureExtension' ? action.kind.value.configuration : undefined;
    expect(sent).toMatchObject({ revision, brokerHost: 'dc.corp.example', enrolmentToken: '', recorderFiles: [{ name: 'recorder.json', content: '{"logLevel":"debug"}' }] });
    expect(JSON.stringify(gateway.Action.toJSON(action))).not.toContain(TOKEN);
    expect(action.expireTime!.getTime()).toBeGreaterThan(action.issuedTime!.getTime());

    expect(h.broker.registry.require(id)).toMatchObject({ configurationRevision: revision, configureRevision: revision, configureActionId: action.actionId });
    const api = h.api();
    const shown = await unary(api.endpoints.getEndpoint.bind(api.endpoints), { target: { target: { $case: 'clientId', value: id } } }, api.metadata);
    expect(shown.endpoint?.configurationRevision).toBe(revision);
    expect(shown.endpoint?.deployments).toEqual([expect.objectContaining({ name: 'configure-extension', revision, status: common.ActionStatus.ACTION_STATUS_SUCCEEDED })]);
    expect(eventsOf(id).map((e) => [e.kind, e.data.revision])).toEqual([['CONFIGURATION_DEPLOYED', revision]]);

    // Back with the new revision in its hello: nothing more to send.
    const back = await again(ep);
    await settled(back);
    expect(back.configureActions).toEqual([]);
    expect(h.broker.registry.require(id).configurationRevision).toBe(revision);
    back.close();
  });

  it('pushes a new build to every connected endpoint behind it', async () => {
    publish();
    const eps = await Promise.all(['cfg-10', 'cfg-11', 'cfg-12'].map((n) => h.endpoint(n, { configurationRevision: revision })));
    await Promise.all(eps.map(settled));
    expect(eps.map((e) => e.configureActions.length)).toEqual([0, 0, 0]);

    publish();
    await waitFor(() => eps.every((e) => h.broker.registry.require(e.identity.clientId).configurationRevision === revision), { what: 'every endpoint on the new revision' });
    for (const e of eps) {
      expect(e.configurationRevision).toBe(revision);
      expect(e.configureActions).toHaveLength(1);
    }
    for (const e of eps) e.close();
  });

  it('keeps endpoints with action lock on out of it unless the lock mode allows configuration changes', async () => {
    publish();
    h.settings.lockMode = 'ALLOW_NEW_CONNECTIONS';
    const ep = await h.endpoint('cfg-20', { actionLock: true });
    const id = ep.identity.clientId;
    await waitFor(() => h.broker.registry.require(id).configureStatus === 'NOT_SUCCEEDED', { what: 'the refusal' });
    expect(h.broker.registry.require(id).configureDetail).toMatch(/action lock is on and the action lock mode ALLOW_NEW_CONNECTIONS refuses configuration changes/);
    await settled(ep);
    expect(ep.configureActions).toEqual([]);
    expect(eventsOf(id).map((e) => e.kind)).toEqual(['CONFIGURATION_FAILED']);

    // A reconnect under the same lock does not record the same refusal again.
    let back = await again(ep);
    await settled(back);
    expect(eventsOf(id)).toHaveLength(1);

    h.settings.lockMode = 'ALLOW_NEW_CONNECTIONS_AND_CONFIGURATION';
    back = await again(back);
    await waitFor(() => h.broker.registry.require(id).configureStatus === 'SUCCEEDED', { what: 'the action to succeed' });
    expect(back.configureActions).toHaveLength(1);
    back.close();
  });

  it('records the endpoint\'s refusal as NOT_SUCCEEDED with its detail, and an event', async () => {
    publish();
    const ep = await h.endpoint('cfg-30', { refuseConfiguration: 'recorder_files[0] (recorder.json): key "maxSizeMB" must be an integer' });
    const id = ep.identity.clientId;
    await waitFor(() => h.broker.registry.require(id).configureStatus === 'NOT_SUCCEEDED', { what: 'the refusal' });
    expect(h.broker.registry.require(id)).toMatchObject({ configurationRevision: 0, configureRevision: revision, configureDetail: expect.stringMatching(/maxSizeMB/) });
    const [ev] = eventsOf(id);
    expect(ev).toMatchObject({ kind: 'CONFIGURATION_FAILED', data: { status: 'NOT_SUCCEEDED', revision } });
    expect(ev!.message).toMatch(/recorder_files\[0\]/);
    ep.close();
  });

  it('sends nothing to an endpoint outside the action group', async () => {
    publish();
    h.settings.actionGroup = new Set(['somebody-else']);
    const ep = await h.endpoint('cfg-40');
    await settled(ep);
    expect(ep.configureActions).toEqual([]);
    expect(h.broker.registry.require(ep.identity.clientId).configureStatus).toBeNull();
    ep.close();
  });
});

describe('Configure Extension rollout', () => {
  it('spreads a new build over the window instead of writing to every endpoint at once', async () => {
    const f = brokerFixture();
    const settings = new StaticSettings();
    const hub = new ControlChannelHub({ clock: f.clock });
    const received = new Map<string, number>();
    const n = 200;
    for (let i = 0; i < n; i++) {
      const id = `ep-${i}`;
      f.registry.upsert(id, { enrolment: 'ENROLLED', ...FACTS, hostname: `ws-${i}` }, f.clock.now());
      const channel: LiveChannel = {
        clientId: id, remoteAddress: '127.0.0.1', connectedAt: 0,
        send: (m) => {
          if (m.message?.$case === 'action') received.set(id, performance.now());
        },
        end: () => {},
      };
      hub.attach(channel);
    }
    const deployer = new ConfigurationDeployer({ registry: f.registry, hub, events: f.events, settings, clock: f.clock, log: f.log, spreadMs: 1000 });
    try {
      const started = performance.now();
      settings.publishContent('b-1', 1, [['linux', configuration(1, 'pem')]]);
      await Promise.resolve();
      await Promise.resolve();
      // 1000 ms in 50 ms ticks: 20 ticks of 10.
      expect(received.size).toBe(10);
      await waitFor(() => received.size === n, { what: 'every endpoint to get the build', timeoutMs: 10_000 });
      expect(Math.max(...received.values()) - started).toBeGreaterThanOrEqual(900);
      expect(f.registry.list().every((e) => e.configureStatus === 'DOWNLOADING' && e.configureRevision === 1)).toBe(true);

      // An endpoint that leaves before answering: ERROR with an event, and the build again at its next hello.
      deployer.onControlChannelClosed('ep-7');
      expect(f.registry.require('ep-7')).toMatchObject({ configureStatus: 'ERROR', configureDetail: expect.stringMatching(/disconnected before reporting/) });
      expect(f.events.list({ clientId: 'ep-7' }).map((e) => e.kind)).toEqual(['CONFIGURATION_FAILED']);
      received.delete('ep-7');
      await deployer.onHello('ep-7', 0);
      expect(received.has('ep-7')).toBe(true);
      expect(f.registry.require('ep-7').configureStatus).toBe('DOWNLOADING');

      // Applied though the answer was lost: the next hello's revision settles it.
      deployer.onControlChannelClosed('ep-8');
      expect(f.registry.require('ep-8').configureStatus).toBe('ERROR');
      await deployer.onHello('ep-8', 1);
      expect(f.registry.require('ep-8')).toMatchObject({ configureStatus: 'SUCCEEDED', configurationRevision: 1 });
      expect(f.events.list({ clientId: 'ep-8' }).map((e) => e.kind)).toEqual(['CONFIGURATION_FAILED', 'CONFIGURATION_DEPLOYED']);
    } finally {
      deployer.close();
      f.close();
    }
  });

  it('sends no content while an uninstall runs', async () => {
    const f = brokerFixture();
    const settings = new StaticSettings();
    const hub = new ControlChannelHub({ clock: f.clock });
    const sent: string[] = [];
    f.registry.upsert('ep-u', { enrolment: 'ENROLLED', ...FACTS }, f.clock.now());
    hub.attach({ clientId: 'ep-u', remoteAddress: '127.0.0.1', connectedAt: 0, send: (m) => void (m.message?.$case === 'action' && sent.push(m.message.value.actionId)), end: () => {} });
    let uninstalling = true;
    const deployer = new ConfigurationDeployer({ registry: f.registry, hub, events: f.events, settings, clock: f.clock, log: f.log, spreadMs: 0, uninstalling: () => uninstalling });
    try {
      settings.publishContent('b-1', 1, [['linux', configuration(1, 'pem')]]);
      await deployer.onHello('ep-u', 0);
      expect(sent).toEqual([]);
      uninstalling = false;
      await deployer.onHello('ep-u', 0);
      expect(sent).toHaveLength(1);
    } finally {
      deployer.close();
      f.close();
    }
  });
});
