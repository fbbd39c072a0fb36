// Cross-process: zone proxy records from the real settings service — added by an operator with
// the pasted payload, provisioned and linked by ZoneLinks polling settings with the service
// account token, status reported back, and torn down when the record is deleted.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { credentials, Metadata, status } from '@grpc/grpc-js';
import { commonV1, settingsV1 } from '@dc/proto';
import { makeTempDir, spawnService, type SpawnedService, waitFor, workspaceRoot } from '@dc/service-kit/testing';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildZoneProxy, EchoGateway, endpointClient, freePort, runInstaller, spawnZoneProxy } from './testing/fixtures';
import { ZoneTestCa } from './testing/zone-test-ca';
import { GrpcZoneProxySettings } from './zone-proxy-directory';
import { ZoneLinks } from './zone-links';

const SETTINGS_ENTRY = join(workspaceRoot, 'apps', 'settings', 'dist', 'main.cjs');

describe('zone proxy records from the real settings service', () => {
  const tmp = makeTempDir('dc-zone-real-settings-');
  let settingsProcess: SpawnedService;
  let proxy: SpawnedService;
  let installed: ReturnType<typeof runInstaller>;
  let links: ZoneLinks | undefined;
  let zoneSettings: GrpcZoneProxySettings | undefined;
  let admin: settingsV1.ZoneProxyServiceClient;

  beforeAll(async () => {
    if (!existsSync(SETTINGS_ENTRY)) execFileSync(process.execPath, [join(workspaceRoot, 'tools', 'build', 'build.mjs'), 'apps/settings'], { cwd: workspaceRoot });
    const entry = buildZoneProxy();
    installed = runInstaller(entry, join(tmp.dir, 'zone'));
    [settingsProcess, proxy] = await Promise.all([
      spawnService({ entry: SETTINGS_ENTRY, args: ['--data-dir', join(tmp.dir, 'settings'), '--port', '0'], env: { DC_SETTINGS_METRICS__PORT: '0' }, startTimeoutMs: 30_000 }),
      spawnZoneProxy(entry, join(tmp.dir, 'zone')),
    ]);
    admin = new settingsV1.ZoneProxyServiceClient(`127.0.0.1:${settingsProcess.ports.grpc}`, credentials.createInsecure());
  }, 90_000);
  afterAll(async () => {
    links?.close();
    zoneSettings?.close();
    admin?.close();
    await Promise.all([settingsProcess?.stop(), proxy?.stop('SIGKILL')]);
    tmp.remove();
  });

  it('provisions and links a record the operator added, reports Connected, and tears the link down when it is deleted', async () => {
    const token = (name: string) => readFileSync(join(tmp.dir, 'settings', name), 'utf8').trim();
    const md = new Metadata();
    md.set('authorization', `Bearer ${token('admin.token')}`);
    const [endpointPort, linkPort] = [await freePort(), await freePort()];
    const added = await promisify((req: settingsV1.AddZoneProxyRequest, cb: (e: Error | null, r: settingsV1.AddZoneProxyResponse) => void) => admin.addZoneProxy(req, md, cb))(
      settingsV1.AddZoneProxyRequest.fromPartial({
        name: 'dmz-west',
        provisionPayload: installed.text,
        endpointTargetHostname: 'localhost',
        endpointInboundIpAddress: '127.0.0.1',
        endpointInboundPort: endpointPort,
        moduleServerTargetHostname: '127.0.0.1',
        moduleServerInboundIpAddress: '127.0.0.1',
        moduleServerInboundPort: linkPort,
      }),
    );
    const id = added.zoneProxy!.zoneProxyId;
    expect(added.zoneProxy!.payloadCertificateFingerprintSha256).toBe(installed.fingerprintSha256);

    const ca = new ZoneTestCa();
    const identity = ca.moduleServerIdentity();
    const gw = new EchoGateway();
    zoneSettings = new GrpcZoneProxySettings(`127.0.0.1:${settingsProcess.ports.grpc}`, credentials.createInsecure(), () => token('service-account.token'));
    links = new ZoneLinks({
      settings: zoneSettings, ca, identity: () => identity, gateway: gw, log: pino({ level: 'silent' }), moduleServerVersion: 'test',
      backoff: { initialMs: 100, maxMs: 500, jitter: 0.2 }, pollIntervalMs: 300, reportIntervalMs: 0,
      addresses: () => ({ provisioning: `127.0.0.1:${proxy.ports.provisioning}` }),
    });
    links.start();
    await waitFor(() => links!.status(id)?.status === 'CONNECTED', { timeoutMs: 30_000, what: 'status Connected' });
    const get = () =>
      promisify((req: settingsV1.GetZoneProxyRequest, cb: (e: Error | null, r: settingsV1.GetZoneProxyResponse) => void) => admin.getZoneProxy(req, md, cb))({ zoneProxyId: id });
    await waitFor(async () => (await get()).zoneProxy?.status === commonV1.ZoneProxyStatus.ZONE_PROXY_STATUS_CONNECTED, { timeoutMs: 10_000, what: 'settings to show Connected' });

    const client = endpointClient(`127.0.0.1:${endpointPort}`, ca.rootPem, ca.endpoint('client-west'));
    const call = client.controlChannel();
    const ended = new Promise<{ code: number; details: string }>((resolve) => call.on('error', (e: { code: number; details: string }) => resolve(e)));
    const acked = new Promise<void>((resolve) => call.on('data', () => resolve()));
    call.write({ message: { $case: 'hello', value: { clientId: '', hostName: 'west-1', ipAddresses: [], os: 0, osVersion: '', architecture: '', toolsVersion: '', recorderVersion: '', actionLock: false, configurationRevision: 0, connectFailures: [], deployments: [], tags: [], inFlightActions: [], fqdn: '' } } });
    await acked;

    await promisify((req: settingsV1.DeleteZoneProxyRequest, cb: (e: Error | null, r: settingsV1.DeleteZoneProxyResponse) => void) => admin.deleteZoneProxy(req, md, cb))({ zoneProxyId: id });
    expect((await ended).code).toBe(status.UNAVAILABLE);
    expect(links.status(id)).toBeUndefined();
    client.close();
  }, 60_000);
});
