// Cross-process: a content build in the real settings service (with the real certificate
// authority for its trust bundle and enrolment token) reaches an endpoint as a Configure
// Extension action — at its hello, and again when a new build appears — without the token.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { credentials, Metadata } from '@grpc/grpc-js';
import { commonV1, settingsV1 } from '@dc/proto';
import { makeTempDir, spawnService, type SpawnedService, waitFor, workspaceRoot } from '@dc/service-kit/testing';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StaticPermissions } from '../api/permission-checker';
import { type Broker, startBroker } from '../broker';
import { gateway } from '../contracts';
import { CaClient } from '../enrolment/ca-client';
import { SettingsClient } from '../settings-link/settings-client';
import { enrolTestEndpoint, TestEndpoint } from '../testing/test-endpoint';

const CA_ENTRY = join(workspaceRoot, 'apps', 'cert-authority', 'dist', 'main.cjs');
const SETTINGS_ENTRY = join(workspaceRoot, 'apps', 'settings', 'dist', 'main.cjs');

describe('content builds from the real settings service to an endpoint', () => {
  const tmp = makeTempDir('dc-configure-real-');
  const caDir = join(tmp.dir, 'ca');
  const settingsDir = join(tmp.dir, 'settings');
  let caProcess: SpawnedService;
  let settingsProcess: SpawnedService;
  let caClient: CaClient;
  let settingsClient: SettingsClient;
  let connection: settingsV1.ConnectionSettingsServiceClient;
  let broker: Broker;
  const endpoints: TestEndpoint[] = [];
  const admin = new Metadata();

  function call<Req, Res>(method: (req: Req, md: Metadata, cb: (err: Error | null, res: Res) => void) => unknown, req: Req): Promise<Res> {
    return new Promise((resolve, reject) => method.call(connection, req, admin, (err, res) => (err ? reject(err) : resolve(res))));
  }

  beforeAll(async () => {
    for (const [entry, project] of [[CA_ENTRY, 'apps/cert-authority'], [SETTINGS_ENTRY, 'apps/settings']] as const) {
      if (!existsSync(entry)) execFileSync(process.execPath, [join(workspaceRoot, 'tools', 'build', 'build.mjs'), project], { cwd: workspaceRoot });
    }
    caProcess = await spawnService({ entry: CA_ENTRY, args: ['--data-dir', caDir, '--port', '0'], env: { DC_CA_METRICS__PORT: '0' }, startTimeoutMs: 40_000 });
    const trustBundle = join(caDir, 'trust-bundle.pem');
    settingsProcess = await spawnService({
      entry: SETTINGS_ENTRY,
      args: ['--data-dir', settingsDir, '--port', '0'],
      env: {
        DC_SETTINGS_METRICS__PORT: '0',
        DC_SETTINGS_CA__ADDRESS: `127.0.0.1:${caProcess.ports.grpc}`,
        DC_SETTINGS_CA__TRUST_BUNDLE_FILE: trustBundle,
        DC_SETTINGS_CA__CERT_FILE: join(caDir, 'credentials', 'settings.cert.pem'),
        DC_SETTINGS_CA__KEY_FILE: join(caDir, 'credentials', 'settings.key.pem'),
        DC_SETTINGS_TLS__SERVER_NAMES: '["127.0.0.1"]',
      },
      startTimeoutMs: 40_000,
    });
    const log = pino({ level: process.env.DC_TEST_LOG ?? 'silent' });
    const tls = {
      caPem: readFileSync(trustBundle, 'utf8'),
      certPem: readFileSync(join(caDir, 'credentials', 'module-server.cert.pem'), 'utf8'),
      keyPem: readFileSync(join(caDir, 'credentials', 'module-server.key.pem'), 'utf8'),
    };
    caClient = new CaClient({ address: `127.0.0.1:${caProcess.ports.grpc}`, serverName: 'localhost', tls, log });
    const settingsAddress = `127.0.0.1:${settingsProcess.ports.grpc}`;
    admin.set('authorization', `Bearer ${readFileSync(join(settingsDir, 'admin.token'), 'utf8').trim()}`);
    connection = new settingsV1.ConnectionSettingsServiceClient(settingsAddress, credentials.createSsl(Buffer.from(tls.caPem)));
    settingsClient = new SettingsClient({
      address: settingsAddress,
      credentials: credentials.createSsl(Buffer.from(tls.caPem)),
      serviceToken: readFileSync(join(settingsDir, 'service-account.token'), 'utf8').trim(),
      log,
    });
    await settingsClient.startWatching();
    const server = await caClient.issueServerCertificate(['localhost', '127.0.0.1']);
    broker = await startBroker({
      dataDir: tmp.dir, log, issuer: caClient, revocation: caClient, settings: settingsClient, permissions: new StaticPermissions({}),
      gateway: { host: '127.0.0.1', port: 0, tls: { caPem: tls.caPem, certPem: server.certPem, keyPem: server.keyPem } },
      api: { host: '127.0.0.1', port: 0 }, version: 'test', shutdownGraceMs: 100, sweepEveryMs: 3_600_000, configurationSpreadMs: 200,
    });
  }, 120_000);
  afterAll(async () => {
    for (const e of endpoints) e.close();
    await broker?.stop();
    settingsClient?.close();
    connection?.close();
    caClient?.close();
    await Promise.all([settingsProcess?.stop(), caProcess?.stop()]);
    tmp.remove();
  });

  it('delivers the build the settings save started, per OS and without the enrolment token, then a new build to the connected endpoint', async () => {
    const saved = await call<settingsV1.UpdateConnectionSettingsRequest, settingsV1.UpdateConnectionSettingsResponse>(connection.updateConnectionSettings, settingsV1.UpdateConnectionSettingsRequest.fromPartial({
      fqdn: 'localhost', skipResolutionCheck: true, actionLockMode: commonV1.ActionLockMode.ACTION_LOCK_MODE_ALLOW_NEW_CONNECTIONS_AND_CONFIGURATION,
    }));
    const first = saved.contentBuild!.revision;
    const content = await waitFor(() => settingsClient.latestContent()?.revision === first && settingsClient.latestContent(), { what: 'the broker to learn the build', timeoutMs: 30_000 });
    expect([...content.configurations.keys()].sort()).toEqual(['linux', 'macos', 'windows']);
    const linux = content.configurations.get('linux')!;
    expect(linux).toMatchObject({ revision: first, brokerHost: 'localhost', brokerPort: 17475, enrolmentToken: '' });
    expect(linux.trustBundlePem).toContain('BEGIN CERTIFICATE');
    // The package itself carries a token: the broker removed it.
    const pkg = await call<settingsV1.GetEndpointPackageRequest, settingsV1.GetEndpointPackageResponse>(connection.getEndpointPackage, { os: commonV1.OperatingSystem.OPERATING_SYSTEM_LINUX, buildId: '' });
    const secret = pkg.configuration!.enrolmentToken;
    expect(secret.length).toBeGreaterThan(8);

    const address = `127.0.0.1:${broker.gatewayPort}`;
    const id = await enrolTestEndpoint(address, await caClient.trustBundle(), await caClient.createEnrolmentToken('configure-e2e'), 'cfg-real-01');
    const ep = new TestEndpoint(address, id, { hostName: 'cfg-real-01' });
    endpoints.push(ep);
    const ack = await ep.connect();
    expect(ack.latestConfigurationRevision).toBe(first);
    await waitFor(() => ep.configurationRevision === first && broker.registry.require(id.clientId).configureStatus === 'SUCCEEDED', { what: 'the build applied', timeoutMs: 15_000 });
    expect(JSON.stringify(ep.configureActions.map((a) => gateway.Action.toJSON(a)))).not.toContain(secret);

    const next = await call<settingsV1.StartContentBuildRequest, settingsV1.StartContentBuildResponse>(connection.startContentBuild, { reason: 'configure e2e' });
    const second = next.build!.revision;
    expect(second).toBeGreaterThan(first);
    await waitFor(() => ep.configurationRevision === second, { what: 'the new build pushed to the connected endpoint', timeoutMs: 30_000 });
    expect(broker.registry.require(id.clientId)).toMatchObject({ configurationRevision: second, configureStatus: 'SUCCEEDED' });
    expect(ep.configureActions).toHaveLength(2);
    expect(broker.events.list({ clientId: id.clientId }).filter((e) => e.kind === 'CONFIGURATION_DEPLOYED')).toHaveLength(2);
  }, 90_000);
});
