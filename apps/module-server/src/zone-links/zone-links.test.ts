// Zone links across real processes: the built zone proxy, provisioned and linked by ZoneLinks,
// relaying endpoints' calls with real mutual TLS and certificates from a real (test) CA.
import { connect as tlsConnect } from 'node:tls';
import { type ClientDuplexStream, credentials, status } from '@grpc/grpc-js';
import { type gatewayV1 as gateway, zoneProxyV1 } from '@dc/proto';
import { encodeRelayPreamble, RELAY_ALPN } from '@dc/zone-link';
import { pino } from 'pino';
import { makeTempDir, type SpawnedService, waitFor } from '@dc/service-kit/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildZoneProxy, EchoGateway, endpointClient, freePort, MemoryZoneProxySettings, runInstaller, spawnZoneProxy } from './testing/fixtures';
import { ZoneTestCa } from './testing/zone-test-ca';
import type { ZoneProxyRecord } from './zone-proxy-directory';
import { ZoneLinks } from './zone-links';

const log = pino({ level: 'silent' });
let entry: string;
let ca: ZoneTestCa;
/** Per test (clients, streams). */
const cleanup: Array<() => unknown> = [];
/** For the whole file (the zone proxy process, temp dirs, links). */
const finalCleanup: Array<() => unknown> = [];

afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});
afterAll(async () => {
  for (const f of finalCleanup.splice(0).reverse()) await f();
});

interface Topology {
  proxy: SpawnedService;
  installDir: string;
  installed: ReturnType<typeof runInstaller>;
  endpointAddress: string;
  record(id: string): ZoneProxyRecord;
  restart(): Promise<void>;
}

/**
 * One real zone proxy process for the whole story (spawning one costs seconds on a loaded
 * machine): refused provisioning attempts leave it unprovisioned, so the same process then
 * gets provisioned, linked, killed, restarted and finally deleted.
 */
async function startProxy(): Promise<Topology> {
  const tmp = makeTempDir('dc-zone-link-');
  finalCleanup.push(() => tmp.remove());
  const installed = runInstaller(entry, tmp.dir);
  const [endpointPort, linkPort] = [await freePort(), await freePort()];
  const t: Topology = {
    proxy: await spawnZoneProxy(entry, tmp.dir),
    installDir: tmp.dir,
    installed,
    endpointAddress: `127.0.0.1:${endpointPort}`,
    record: (id) => ({
      id,
      name: 'zone-a',
      endpointTargetHostname: 'localhost',
      endpointInboundIpAddress: '127.0.0.1',
      endpointInboundPort: endpointPort,
      moduleServerTargetHostname: '127.0.0.1',
      moduleServerInboundIpAddress: '127.0.0.1',
      moduleServerInboundPort: linkPort,
      payloadCertificateFingerprintSha256: installed.fingerprintSha256,
    }),
    async restart() {
      await t.proxy.stop('SIGKILL');
      t.proxy = await spawnZoneProxy(entry, tmp.dir);
    },
  };
  finalCleanup.push(() => t.proxy.stop('SIGKILL'));
  return t;
}

interface Links {
  settings: MemoryZoneProxySettings;
  links: ZoneLinks;
  gateway: EchoGateway;
  record: ZoneProxyRecord;
}

async function linksFor(t: Topology, material: { record: ZoneProxyRecord; provisionSecret: Buffer; payloadCertificatePem: string }): Promise<Links> {
  const settings = new MemoryZoneProxySettings();
  settings.records.set(material.record.id, material);
  const gw = new EchoGateway();
  const identity = ca.moduleServerIdentity();
  const links = new ZoneLinks({
    settings,
    ca,
    identity: () => identity,
    gateway: gw,
    log,
    moduleServerVersion: 'test',
    backoff: { initialMs: 100, maxMs: 500, jitter: 0.2 },
    keepaliveIntervalMs: 1000,
    reportIntervalMs: 0,
    addresses: () => ({ provisioning: `127.0.0.1:${t.proxy.ports.provisioning}` }),
  });
  finalCleanup.push(() => links.close());
  await links.refreshTrust();
  links.reconcile([material.record]);
  return { settings, links, gateway: gw, record: material.record };
}

function openControlChannel(address: string, cert: { certPem: string; keyPem: string }) {
  const client = endpointClient(address, ca.rootPem, cert);
  cleanup.push(() => client.close());
  const call: ClientDuplexStream<gateway.ControlChannelRequest, gateway.ControlChannelResponse> = client.controlChannel();
  const received: gateway.ControlChannelResponse[] = [];
  const outcome = new Promise<{ code: number; details: string }>((resolve) => {
    call.on('error', (e: { code: number; details: string }) => resolve({ code: e.code, details: e.details }));
    call.on('end', () => resolve({ code: status.OK, details: '' }));
  });
  call.on('data', (m: gateway.ControlChannelResponse) => received.push(m));
  call.write({ message: { $case: 'hello', value: { clientId: '', hostName: 'ep-1', ipAddresses: [], os: 0, osVersion: '', architecture: '', toolsVersion: '', recorderVersion: '', actionLock: false, configurationRevision: 0, connectFailures: [], deployments: [], tags: [], inFlightActions: [], fqdn: '' } } });
  cleanup.push(() => call.cancel());
  return { call, received, outcome };
}

const statusOf = (l: Links) => l.links.status(l.record.id);

describe('zone links with a real zone proxy process', () => {
  let t: Topology;
  let linked: Links;

  beforeAll(async () => {
    entry = buildZoneProxy();
    ca = new ZoneTestCa();
    t = await startProxy();
  }, 60_000);

  it('shows Error when the pasted payload has a different secret', async () => {
    const wrong = Buffer.from(t.installed.secret);
    wrong[0] = wrong[0]! ^ 1;
    const l = await linksFor(t, { record: t.record('zp-wrong-secret'), provisionSecret: wrong, payloadCertificatePem: t.installed.certificatePem });
    await waitFor(() => statusOf(l)?.status === 'ERROR', { timeoutMs: 20_000, what: 'status Error' });
    expect(statusOf(l)!.detail).toMatch(/did not prove the provision secret/);
    expect(l.settings.reports.at(-1)?.status).toBe('ERROR');
    expect(ca.issued).toHaveLength(0);
    l.links.close();
  }, 30_000);

  it('shows Error when the pasted payload has a different certificate', async () => {
    const other = makeTempDir('dc-zone-link-other-');
    finalCleanup.push(() => other.remove());
    const o = runInstaller(entry, other.dir);
    const record = { ...t.record('zp-other-cert'), payloadCertificateFingerprintSha256: o.fingerprintSha256 };
    const l = await linksFor(t, { record, provisionSecret: t.installed.secret, payloadCertificatePem: o.certificatePem });
    await waitFor(() => statusOf(l)?.status === 'ERROR', { timeoutMs: 20_000, what: 'status Error' });
    expect(statusOf(l)!.detail).toMatch(/pinned certificate mismatch/);
    expect(ca.issued).toHaveLength(0);
    l.links.close();
  }, 30_000);

  it('provisions the zone proxy, links it, and relays an endpoint control channel with its verified identity and route', async () => {
    linked = await linksFor(t, { record: t.record('zp-1'), provisionSecret: t.installed.secret, payloadCertificatePem: t.installed.certificatePem });
    await waitFor(() => statusOf(linked)?.status === 'CONNECTED', { timeoutMs: 20_000, what: 'status Connected' });
    expect(linked.settings.reports.map((r) => r.status)).toContain('CONNECTED');
    expect(ca.issued.map((i) => `${i.facing}:${[...i.dnsNames, ...i.ipAddresses].join(',')}`).sort()).toEqual(['endpoint:localhost,127.0.0.1', 'link:127.0.0.1']);

    const cc = openControlChannel(t.endpointAddress, ca.endpoint('client-42'));
    await waitFor(() => cc.received.find((m) => m.message?.$case === 'helloAck'), { timeoutMs: 10_000, what: 'HelloAck through the proxy' });
    const ack = cc.received[0]!.message;
    expect(ack?.$case === 'helloAck' && ack.value.clientId).toBe('client-42');
    expect(ack?.$case === 'helloAck' && ack.value.brokerVersion).toBe('route=zone-a');
    // The gateway sees the endpoint's address, not the relay connection's (the proxy's link port).
    const hello = linked.gateway.hellos.find((h) => h.clientId === 'client-42')!;
    expect(hello.peer).toBe(hello.remoteAddress);
    expect(hello.peer).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(hello.peer).not.toBe(`127.0.0.1:${t.record('x').moduleServerInboundPort}`);
    cc.call.write({ message: { $case: 'heartbeat', value: { sequence: 7, activeSessions: 0 } } });
    await waitFor(() => cc.received.find((m) => m.message?.$case === 'heartbeatAck'), { timeoutMs: 5000, what: 'a heartbeat ack' });
    expect(statusOf(linked)!.activity.endpointsConnected).toBe(1);
    expect(statusOf(linked)!.activity.bytesToModuleServer).toBeGreaterThan(0);
    expect(statusOf(linked)!.activity.bytesToEndpoints).toBeGreaterThan(0);

    // Enrol needs no client certificate and is relayed as a unary call.
    const anon = endpointClient(t.endpointAddress, ca.rootPem);
    cleanup.push(() => anon.close());
    const enrolled = await new Promise<gateway.EnrolResponse>((resolve, reject) =>
      anon.enrol({ csrPem: 'csr', enrolmentToken: 'token', hostName: 'fresh-host', os: 0 }, (err, res) => (err ? reject(err) : resolve(res!))),
    );
    expect(enrolled.clientId).toBe('enrolled-fresh-host');
    expect(enrolled.certificateChainPem).toBe('route=zone-a');
    // Without a certificate, anything but Enrol is refused at the proxy.
    const refused = await new Promise<{ code: number; details: string }>((resolve) => {
      const c = anon.controlChannel();
      c.on('error', (e: { code: number; details: string }) => resolve(e));
      c.on('data', () => undefined);
    });
    expect(refused.code).toBe(status.UNAUTHENTICATED);
    expect(refused.details).toMatch(/no client certificate/);
  }, 40_000);

  it('relays 10 MiB of session responses in order through the flow-controlled link', async () => {
    const client = endpointClient(t.endpointAddress, ca.rootPem, ca.endpoint('client-bulk'));
    cleanup.push(() => client.close());
    const call = client.sessionStream();
    const echoes: string[] = [];
    call.on('data', (m: gateway.SessionStreamResponse) => {
      if (m.message?.$case === 'request') echoes.push(m.message.value.requestId);
    });
    call.write({ message: { $case: 'attach', value: { sessionId: 's-bulk', actionId: 'a-bulk' } } });
    const before = linked.gateway.sessionChunks.length;
    const chunk = Buffer.alloc(256 << 10, 5);
    for (let i = 0; i < 40; i++) {
      call.write({ message: { $case: 'response', value: { requestId: `r${i}`, chunkIndex: 0, last: true, payload: { $case: 'generic', value: { contentType: 'application/octet-stream', body: chunk } } } } });
    }
    await waitFor(() => echoes.length === 40, { timeoutMs: 20_000, what: 'every chunk relayed and answered' });
    const got = linked.gateway.sessionChunks.slice(before);
    expect(got.map((c) => c.requestId)).toEqual(Array.from({ length: 40 }, (_, i) => `r${i}`));
    expect(got.every((c) => c.bytes === 256 << 10)).toBe(true);
    expect(echoes).toEqual(Array.from({ length: 40 }, (_, i) => `echo-r${i}`));
    call.end();
  }, 40_000);

  it('refuses an endpoint whose certificate was revoked, at the proxy, and ends its open calls', async () => {
    const ep = ca.endpoint('client-revoked');
    const open = openControlChannel(t.endpointAddress, ep);
    await waitFor(() => open.received.length > 0, { timeoutMs: 10_000, what: 'HelloAck before the revocation' });
    ca.revoke(ep.serial);
    await linked.links.refreshTrust();
    expect(await open.outcome).toEqual({ code: status.UNAUTHENTICATED, details: 'certificate revoked' });
    const hellosBefore = linked.gateway.hellos.length;
    const result = await waitFor(
      async () => {
        const r = await openControlChannel(t.endpointAddress, ep).outcome;
        return r.code === status.UNAUTHENTICATED ? r : undefined;
      },
      { timeoutMs: 10_000, what: 'a refusal for the revoked certificate' },
    );
    expect(result.details).toBe('certificate revoked');
    expect(linked.gateway.hellos.length).toBe(hellosBefore);
    await waitFor(() => /revoked/.test(statusOf(linked)!.activity.lastError), { timeoutMs: 5000, what: 'the refusal in the activity' });
  }, 30_000);

  it('lets only the module server open the link: no certificate or an endpoint certificate is refused', async () => {
    const port = t.record('x').moduleServerInboundPort;
    const getStatus = (cert?: { certPem: string; keyPem: string }) => {
      const creds = credentials.createSsl(Buffer.from(ca.rootPem), cert ? Buffer.from(cert.keyPem) : null, cert ? Buffer.from(cert.certPem) : null);
      const client = new zoneProxyV1.ZoneLinkServiceClient(`127.0.0.1:${port}`, creds);
      cleanup.push(() => client.close());
      return new Promise<{ code: number; details: string } | zoneProxyV1.GetStatusResponse>((resolve) => client.getStatus({}, (err, res) => resolve(err ? { code: err.code, details: err.details } : res!)));
    };
    expect(await getStatus()).toMatchObject({ code: status.PERMISSION_DENIED, details: 'no client certificate' });
    expect(await getStatus(ca.endpoint('client-sneaky'))).toMatchObject({ code: status.PERMISSION_DENIED, details: /endpoint or zone proxy certificate cannot open the module server link/ });
    const id = ca.moduleServerIdentity();
    expect(await getStatus({ certPem: id.certificateChainPem, keyPem: id.privateKeyPem })).toMatchObject({ zoneProxyName: 'zone-a', provisioned: true, linked: true });
  }, 30_000);

  it('takes relay connections only from the module server, and only for an endpoint connection it asked for', async () => {
    const port = t.record('x').moduleServerInboundPort;
    /** Opens a relay connection, writes the preamble and a byte, and says how it ended. */
    const relay = (cert: { certPem: string; keyPem: string }, connectionId: number) =>
      new Promise<{ alpn: string | false; closedBy: 'proxy' | 'timeout' }>((resolve) => {
        const socket = tlsConnect({ host: '127.0.0.1', port, ca: ca.rootPem, cert: cert.certPem, key: cert.keyPem, ALPNProtocols: [RELAY_ALPN], checkServerIdentity: () => undefined });
        cleanup.push(() => socket.destroy());
        const timer = setTimeout(() => resolve({ alpn: socket.alpnProtocol ?? false, closedBy: 'timeout' }), 3000);
        socket.on('error', () => undefined);
        socket.once('secureConnect', () => socket.write(Buffer.concat([encodeRelayPreamble(connectionId), Buffer.from('x')])));
        socket.once('close', () => {
          clearTimeout(timer);
          resolve({ alpn: socket.alpnProtocol ?? false, closedBy: 'proxy' });
        });
      });
    // An endpoint's certificate is refused even though our CA issued it.
    expect(await relay(ca.endpoint('client-sneaky-relay'), 1)).toEqual({ alpn: RELAY_ALPN, closedBy: 'proxy' });
    await waitFor(() => /relay connection from .* refused: an endpoint or zone proxy certificate/.test(statusOf(linked)!.activity.lastError), { timeoutMs: 5000, what: 'the refusal in the activity' });
    // The module server's certificate, but no endpoint connection waits for this id.
    const id = ca.moduleServerIdentity();
    expect(await relay({ certPem: id.certificateChainPem, keyPem: id.privateKeyPem }, 987_654)).toEqual({ alpn: RELAY_ALPN, closedBy: 'proxy' });
    // Endpoints keep being relayed.
    const cc = openControlChannel(t.endpointAddress, ca.endpoint('client-after-sneaky'));
    await waitFor(() => cc.received.find((m) => m.message?.$case === 'helloAck'), { timeoutMs: 10_000, what: 'HelloAck after the refused relay connections' });
  }, 30_000);

  it('reconnects after the zone proxy is killed and restarted, without provisioning again', async () => {
    const ep = ca.endpoint('client-7');
    const first = openControlChannel(t.endpointAddress, ep);
    await waitFor(() => first.received.length > 0, { timeoutMs: 10_000, what: 'HelloAck' });
    const issuedBefore = ca.issued.length;

    await t.proxy.stop('SIGKILL');
    expect((await first.outcome).code).toBe(status.UNAVAILABLE);
    await waitFor(() => statusOf(linked)?.status === 'DISCONNECTED', { timeoutMs: 10_000, what: 'status Disconnected' });
    expect(statusOf(linked)!.activity.lastError).toMatch(/.+/);
    expect(linked.gateway.openChannels.size).toBe(0);

    await t.restart();
    await waitFor(() => statusOf(linked)?.status === 'CONNECTED', { timeoutMs: 20_000, what: 'status Connected again' });
    expect(ca.issued.length).toBe(issuedBefore);
    const again = openControlChannel(t.endpointAddress, ep);
    await waitFor(() => again.received.length > 0, { timeoutMs: 10_000, what: 'HelloAck after the restart' });
    expect(linked.gateway.hellos.filter((h) => h.clientId === 'client-7')).toHaveLength(2);
  }, 40_000);

  it('links again after a module server restart, without provisioning again', async () => {
    linked.links.close();
    const issuedBefore = ca.issued.length;
    linked = await linksFor(t, { record: t.record('zp-1'), provisionSecret: t.installed.secret, payloadCertificatePem: t.installed.certificatePem });
    await waitFor(() => statusOf(linked)?.status === 'CONNECTED', { timeoutMs: 20_000, what: 'status Connected after the restart' });
    expect(ca.issued.length).toBe(issuedBefore);
  }, 30_000);

  it('tears the link down when the record is deleted, and the proxy refuses further traffic', async () => {
    const ep = ca.endpoint('client-9');
    const cc = openControlChannel(t.endpointAddress, ep);
    await waitFor(() => cc.received.length > 0, { timeoutMs: 10_000, what: 'HelloAck' });
    linked.links.reconcile([]);
    expect(statusOf(linked)).toBeUndefined();
    expect((await cc.outcome).code).toBe(status.UNAVAILABLE);
    const r = await openControlChannel(t.endpointAddress, ep).outcome;
    expect(r.code).toBe(status.UNAVAILABLE);
    expect(r.details).toMatch(/no link to the module server/);
  }, 30_000);
});
