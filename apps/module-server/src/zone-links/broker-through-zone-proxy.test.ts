// Endpoints behind a real zone proxy process reach the broker's real gateway handlers (the
// same as :17475 runs): they enrol, connect with their route shown, serve sessions, and after
// the proxy is killed and restarted they reconnect; a request in flight when the link dropped
// is reported as failed, never lost (SPEC 1.4.6, issue #7).
import { join } from 'node:path';
import { makeTempDir, type SpawnedService, waitFor } from '@dc/service-kit/testing';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StaticPermissions } from '../api/permission-checker';
import { type Broker, startBroker } from '../broker';
import { systemClock } from '../clock';
import { Enrolment } from '../enrolment/enrolment';
import { gatewayService } from '../gateway/gateway-service';
import { StaticSettings } from '../settings-link/settings-source';
import { TestCa } from '../testing/test-ca';
import { enrolTestEndpoint, TestEndpoint } from '../testing/test-endpoint';
import type { RelayedGateway } from './relayed-peer';
import { buildZoneProxy, freePort, MemoryZoneProxySettings, runInstaller, spawnZoneProxy } from './testing/fixtures';
import { ZoneTestCa } from './testing/zone-test-ca';
import type { ZoneCertificateAuthority, ZoneProxyRecord } from './zone-proxy-directory';
import { ZoneLinks } from './zone-links';

describe('the broker through a real zone proxy', () => {
  const tmp = makeTempDir('dc-zone-broker-');
  const log = pino({ level: 'silent' });
  let proxy: SpawnedService;
  let broker: Broker;
  let links: ZoneLinks;
  let endpointCa: TestCa;
  let bundle: string;
  let proxyAddress: string;
  let record: ZoneProxyRecord;
  const endpoints: TestEndpoint[] = [];

  beforeAll(async () => {
    const entry = buildZoneProxy();
    const installed = runInstaller(entry, join(tmp.dir, 'zone'));
    proxy = await spawnZoneProxy(entry, join(tmp.dir, 'zone'));
    endpointCa = new TestCa();
    const zoneCa = new ZoneTestCa();
    bundle = zoneCa.rootPem + endpointCa.rootPem;
    // One trust bundle with both test roots: the zone proxy's certificates come from one, endpoints' from the other.
    const ca: ZoneCertificateAuthority = {
      issueZoneProxyCertificate: async (req) => ({ ...(await zoneCa.issueZoneProxyCertificate(req)), trustBundlePem: bundle }),
      trustBundle: async () => bundle,
      revocationList: async () => ({ version: 0, serials: [] }),
    };
    broker = await startBroker({
      dataDir: tmp.dir, log, issuer: endpointCa, revocation: endpointCa, settings: new StaticSettings(), permissions: new StaticPermissions({}),
      gateway: { host: '127.0.0.1', port: 0, tls: { caPem: endpointCa.rootPem, ...endpointCa.serverCertificate() } },
      api: { host: '127.0.0.1', port: 0 }, version: 'test', shutdownGraceMs: 100, sweepEveryMs: 3_600_000,
    });
    // The same handlers :17475 serves, built from the broker's parts (what main.ts wires).
    const handlers = gatewayService({
      registry: broker.registry, presence: broker.presence, events: broker.events, hub: broker.hub, sessions: broker.sessions,
      enrolment: new Enrolment({ issuer: endpointCa, registry: broker.registry, events: broker.events, clock: systemClock, log }),
      revocation: endpointCa, settings: new StaticSettings(), clock: systemClock, log, brokerVersion: 'test', renewBeforeMs: 0,
    }).implementation as unknown as RelayedGateway;
    const [endpointPort, linkPort] = [await freePort(), await freePort()];
    proxyAddress = `127.0.0.1:${endpointPort}`;
    record = {
      id: 'zp-broker', name: 'dmz-east', endpointTargetHostname: 'localhost', endpointInboundIpAddress: '127.0.0.1', endpointInboundPort: endpointPort,
      moduleServerTargetHostname: '127.0.0.1', moduleServerInboundIpAddress: '127.0.0.1', moduleServerInboundPort: linkPort, payloadCertificateFingerprintSha256: installed.fingerprintSha256,
    };
    const settings = new MemoryZoneProxySettings();
    settings.records.set(record.id, { record, provisionSecret: installed.secret, payloadCertificatePem: installed.certificatePem });
    const identity = zoneCa.moduleServerIdentity();
    links = new ZoneLinks({
      settings, ca, identity: () => identity, gateway: handlers, log, moduleServerVersion: 'test',
      backoff: { initialMs: 100, maxMs: 500, jitter: 0.2 }, keepaliveIntervalMs: 1000, reportIntervalMs: 0,
      addresses: () => ({ provisioning: `127.0.0.1:${proxy.ports.provisioning}` }),
    });
    await links.refreshTrust();
    links.reconcile([record]);
    await waitFor(() => links.status(record.id)?.status === 'CONNECTED', { timeoutMs: 30_000, what: 'the zone link' });
  }, 90_000);

  afterAll(async () => {
    for (const ep of endpoints) ep.close();
    links?.close();
    await broker?.stop();
    await proxy?.stop('SIGKILL');
    tmp.remove();
  });

  it('enrols an endpoint through the proxy, connects it with its route, and serves a session', async () => {
    const id = await enrolTestEndpoint(proxyAddress, bundle, endpointCa.createEnrolmentToken(), 'dmz-host-1');
    const ep = new TestEndpoint(proxyAddress, { ...id, caPem: bundle }, { hostName: 'dmz-host-1' });
    endpoints.push(ep);
    const ack = await ep.connect();
    expect(ack.clientId).toBe(id.clientId);
    expect(broker.registry.require(id.clientId)).toMatchObject({ status: 'ONLINE', route: 'dmz-east', hostname: 'dmz-host-1' });

    const session = await broker.sessions.open({ target: id.clientId, module: 'trace', requestedBy: 'test' });
    const open = await broker.sessions.waitUntilOpen(session.sessionId, 10_000);
    expect(open.sessionStatus).toBe('OPEN');
    const chunks = [];
    for await (const c of broker.sessions.request(session.sessionId, { $case: 'ping', value: { payload: Buffer.from('through the dmz') } })) chunks.push(c);
    expect(chunks).toHaveLength(1);
    expect(chunks[0]!.payload?.$case === 'pong' && Buffer.from(chunks[0]!.payload.value.payload).toString()).toBe('through the dmz');
    expect(links.status(record.id)!.activity).toMatchObject({ endpointsConnected: 1, sessions: 1 });
  }, 60_000);

  it('reports a request in flight as failed when the proxy dies, and everything reconnects after the restart', async () => {
    const ep = endpoints[0]!;
    const clientId = ep.identity.clientId;
    let answer: (() => void) | undefined;
    const slow = new TestEndpoint(proxyAddress, ep.identity, {
      hostName: 'dmz-host-1',
      onRequest: async function* (req) {
        await new Promise<void>((r) => (answer = r));
        yield { $case: 'pong', value: { payload: req.payload?.$case === 'ping' ? req.payload.value.payload : Buffer.alloc(0) } };
      },
    });
    endpoints.push(slow);
    ep.close();
    await slow.connect();
    const session = await broker.sessions.open({ target: clientId, module: 'trace', requestedBy: 'test' });
    expect((await broker.sessions.waitUntilOpen(session.sessionId, 10_000)).sessionStatus).toBe('OPEN');
    // The outcome is taken at once: the request may fail while the proxy is still being killed.
    const inFlight = (async () => {
      const got = [];
      for await (const c of broker.sessions.request(session.sessionId, { $case: 'ping', value: { payload: Buffer.from('x') } })) got.push(c);
      return got;
    })().then((chunks) => ({ chunks }), (err: unknown) => ({ err: err as Error }));
    await waitFor(() => answer !== undefined, { what: 'the endpoint to receive the request' });

    await proxy.stop('SIGKILL');
    const outcome = await inFlight;
    // Reported: either an error chunk or a rejected request — never silence.
    const failed = 'err' in outcome || outcome.chunks.some((c) => c.payload?.$case === 'error');
    expect(failed).toBe(true);
    await waitFor(() => links.status(record.id)?.status === 'DISCONNECTED', { what: 'status Disconnected' });
    await waitFor(() => broker.registry.require(clientId).status !== 'ONLINE' || !broker.hub.isConnected(clientId), { what: 'the broker to see the endpoint go' });

    proxy = await spawnZoneProxy(buildZoneProxy(), join(tmp.dir, 'zone'));
    await waitFor(() => links.status(record.id)?.status === 'CONNECTED', { timeoutMs: 20_000, what: 'the link back' });
    const back = new TestEndpoint(proxyAddress, ep.identity, { hostName: 'dmz-host-1' });
    endpoints.push(back);
    await waitFor(() => back.connect().then(() => true, () => false), { timeoutMs: 15_000, what: 'the endpoint back through the proxy' });
    expect(broker.registry.require(clientId)).toMatchObject({ status: 'ONLINE', route: 'dmz-east' });
  }, 90_000);
});
