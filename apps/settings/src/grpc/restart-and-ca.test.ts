// Cross-process: custom set-up, the content build against a real cert-authority process, and a restart that keeps everything.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { credentials, status } from '@grpc/grpc-js';
import { commonV1, settingsV1 } from '@dc/proto';
import { distEntry, makeTempDir, type SpawnedService, spawnService, waitFor } from '@dc/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { provisionPayload } from '../testing/certificates';
import { codeOf, type SettingsClients, settingsClients } from '../testing/grpc-clients';

let caDir: { dir: string; remove(): void };
let dataDir: { dir: string; remove(): void };
let ca: SpawnedService;
let settings: SpawnedService;
let api: SettingsClients;
let admin: string;

async function startSettings(): Promise<void> {
  settings = await spawnService({
    entry: distEntry('apps/settings'),
    args: ['--data-dir', dataDir.dir, '--port', '0', '--setup-mode', 'custom'],
    env: {
      DC_SETTINGS_METRICS__PORT: '0',
      DC_SETTINGS_CA__ADDRESS: `127.0.0.1:${ca.ports.grpc}`,
      DC_SETTINGS_CA__TRUST_BUNDLE_FILE: join(caDir.dir, 'trust-bundle.pem'),
      // The CA issues "settings" a service identity for mutual TLS at its first start.
      DC_SETTINGS_CA__CERT_FILE: join(caDir.dir, 'credentials', 'settings.cert.pem'),
      DC_SETTINGS_CA__KEY_FILE: join(caDir.dir, 'credentials', 'settings.key.pem'),
      // Serve TLS with a SERVER certificate the CA issues at first start.
      DC_SETTINGS_TLS__SERVER_NAMES: '["127.0.0.1"]',
    },
  });
  api = settingsClients(`127.0.0.1:${settings.ports.grpc}`, credentials.createSsl(readFileSync(join(caDir.dir, 'trust-bundle.pem'))));
}

beforeAll(async () => {
  const caEntry = distEntry('apps/cert-authority');
  if (!existsSync(caEntry)) throw new Error(`${caEntry} is missing: build apps/cert-authority first (the test target depends on it)`);
  caDir = makeTempDir('dc-settings-ca-');
  dataDir = makeTempDir('dc-settings-restart-');
  ca = await spawnService({ entry: caEntry, args: ['--data-dir', caDir.dir, '--port', '0'], env: { DC_CA_METRICS__PORT: '0' }, startTimeoutMs: 40_000 });
  await startSettings();
  admin = readFileSync(join(dataDir.dir, 'admin.token'), 'utf8').trim();
}, 60_000);

afterAll(async () => {
  api?.close();
  await settings?.stop();
  await ca?.stop();
  dataDir?.remove();
  caDir?.remove();
});

describe('TLS', () => {
  it('serves TLS with a certificate from the CA and refuses plaintext', async () => {
    expect((await api.rbac.call('whoAmI', {}, admin)).principal?.name).toBe('admin');
    const plain = settingsClients(`127.0.0.1:${settings.ports.grpc}`);
    try {
      expect(await codeOf(plain.rbac.call('whoAmI', {}, admin))).toBe(status.UNAVAILABLE);
    } finally {
      plain.close();
    }
    expect(statSync(join(dataDir.dir, 'tls', 'server.key.pem')).mode & 0o777).toBe(0o600);
  });
});

describe('custom set-up', () => {
  it('starts with No Computers and no service account, and says what remains', async () => {
    const group = await api.actionGroup.call('getActionGroup', {}, admin);
    expect(group.actionGroup?.target).toBe(settingsV1.ActionGroupTarget.ACTION_GROUP_TARGET_NO_COMPUTERS);
    const setup = await api.setup.call('getSetupStatus', {}, admin);
    expect(setup.mode).toBe(settingsV1.SetupMode.SETUP_MODE_CUSTOM);
    expect(setup.complete).toBe(false);
    expect(setup.steps.find((s) => s.name === 'service account')).toMatchObject({ done: false });
    expect(existsSync(join(dataDir.dir, 'service-account.token'))).toBe(false);
    const sa = await api.setup.call('setServiceAccount', { name: 'svc-direct-connect', tokenTtl: undefined }, admin);
    expect(sa.serviceAccount).toMatchObject({ name: 'svc-direct-connect', configured: true, reentryRequired: false });
    const who = await api.rbac.call('whoAmI', {}, sa.token);
    expect(who.permissions).toEqual([commonV1.Permission.PERMISSION_CRON_EXEC]);
  });
});

describe('content build with the real certificate authority', () => {
  it('builds packages carrying the CA trust bundle and a CA enrolment token', async () => {
    const saved = await api.connection.call('updateConnectionSettings', { fqdn: '127.0.0.1', port: 0, actionLockMode: 0, skipResolutionCheck: false }, admin);
    const buildId = saved.contentBuild!.buildId;
    const build = await waitFor(
      async () => {
        const b = (await api.connection.call('getContentBuild', { buildId }, admin)).build!;
        return b.state === settingsV1.ContentBuildState.CONTENT_BUILD_STATE_SUCCEEDED || b.state === settingsV1.ContentBuildState.CONTENT_BUILD_STATE_FAILED ? b : undefined;
      },
      { timeoutMs: 20_000, what: 'the content build' },
    );
    expect(build.error).toBe('');
    expect(build.packages.map((p) => p.os)).toEqual([1, 2, 3].map((o) => o as commonV1.OperatingSystem));
    const pkg = await api.connection.call('getEndpointPackage', { os: commonV1.OperatingSystem.OPERATING_SYSTEM_LINUX, buildId: '' }, admin);
    expect(pkg.configuration).toMatchObject({ brokerHost: '127.0.0.1', brokerPort: 17475 });
    expect(pkg.configuration?.trustBundlePem).toBe(readFileSync(join(caDir.dir, 'trust-bundle.pem'), 'utf8'));
    expect(pkg.configuration?.enrolmentToken.startsWith(`dcet_${build.enrolmentTokenId}_`)).toBe(true);
    expect(pkg.content.length).toBe(pkg.summary!.sizeBytes);
  });
});

describe('restart', () => {
  it('keeps every setting, user, token, zone proxy and the audit log across a restart', async () => {
    const C = commonV1.Component;
    await api.policy.call('setLogLevel', { component: C.COMPONENT_ENDPOINT_RECORDER, level: commonV1.LogLevel.LOG_LEVEL_TRACE }, admin);
    const policy = { interval: { seconds: 45, nanos: 0 }, missedHeartbeatsBeforeOffline: 4, missedHeartbeatsBeforeAlert: undefined, direction: commonV1.CommunicationDirection.COMMUNICATION_DIRECTION_BIDIRECTIONAL };
    await api.policy.call('updateHeartbeatPolicy', { policy }, admin);
    const { group } = await api.actionGroup.call(
      'createComputerGroup',
      { group: { computerGroupId: '', name: 'linux', description: 'all Linux', match: 0, rules: [{ rule: { $case: 'os', value: commonV1.OperatingSystem.OPERATING_SYSTEM_LINUX }, negate: false }], revision: 0 } },
      admin,
    );
    await api.actionGroup.call('setActionGroup', { target: settingsV1.ActionGroupTarget.ACTION_GROUP_TARGET_COMPUTER_GROUP, computerGroupId: group!.computerGroupId }, admin);
    const { zoneProxy } = await api.zoneProxies.call(
      'addZoneProxy',
      {
        name: 'dmz-keep',
        provisionPayload: provisionPayload(),
        endpointTargetHostname: 'zone.example.com',
        endpointInboundIpAddress: '192.0.2.10',
        endpointInboundPort: 0,
        moduleServerTargetHostname: 'zone.example.com',
        moduleServerInboundIpAddress: '192.0.2.11',
        moduleServerInboundPort: 0,
      },
      admin,
    );
    await api.rbac.call('createUser', { name: 'rita', displayName: 'Rita', roles: [commonV1.Role.ROLE_READ_ONLY_USER] }, admin);
    const rita = await api.rbac.call('createApiToken', { userId: 'rita', name: 'laptop', ttl: { seconds: 86_400, nanos: 0 } }, admin);
    const before = await api.audit.call('listAuditEntries', { pageSize: 1, pageToken: '', principal: '', resourcePrefix: '', action: '' }, admin);

    // A follower stays connected: the shutdown ends its stream instead of waiting for it.
    const { Metadata } = await import('@grpc/grpc-js');
    const md = new Metadata();
    md.set('authorization', `Bearer ${admin}`);
    const follower = api.watch.client.watch({ kinds: [], sinceRevision: 0 }, md);
    const snapshot: unknown[] = [];
    follower.on('data', (m) => snapshot.push(m));
    const ended = new Promise<string>((resolve) => {
      follower.on('end', () => resolve('end'));
      follower.on('error', (e: { code: number }) => resolve(`error ${e.code}`));
    });
    await waitFor(() => snapshot.length > 0, { what: 'the snapshot' });
    const stopping = Date.now();
    expect(await settings.stop()).toBe(0);
    expect(Date.now() - stopping).toBeLessThan(4900); // waiting for the stream would take the 5 s grace period
    expect(await ended).toBe('end');
    api.close();
    await startSettings();

    expect(readFileSync(join(dataDir.dir, 'admin.token'), 'utf8').trim()).toBe(admin);
    const levels = await api.policy.call('getLogLevels', {}, rita.secret);
    expect(levels.levels.find((l) => l.component === C.COMPONENT_ENDPOINT_RECORDER)?.level).toBe(commonV1.LogLevel.LOG_LEVEL_TRACE);
    expect((await api.policy.call('getHeartbeatPolicy', {}, rita.secret)).policy).toEqual(policy);
    const ag = await api.actionGroup.call('getActionGroup', {}, rita.secret);
    expect(ag.actionGroup).toMatchObject({ target: settingsV1.ActionGroupTarget.ACTION_GROUP_TARGET_COMPUTER_GROUP, computerGroupId: group!.computerGroupId });
    const member = await api.actionGroup.call('evaluateMembership', { facts: { clientId: 'c1', hostName: 'web-1', fqdn: '', os: commonV1.OperatingSystem.OPERATING_SYSTEM_LINUX, ipAddresses: [], tags: [] } }, rita.secret);
    expect(member.inActionGroup).toBe(true);
    expect((await api.zoneProxies.call('getZoneProxy', { zoneProxyId: zoneProxy!.zoneProxyId }, rita.secret)).zoneProxy?.name).toBe('dmz-keep');
    expect((await api.connection.call('getConnectionSettings', {}, rita.secret)).settings?.fqdn).toBe('127.0.0.1');
    expect(await codeOf(api.rbac.call('listUsers', { pageSize: 0, pageToken: '' }, rita.secret))).toBe(status.OK);
    const after = await api.audit.call('listAuditEntries', { pageSize: 1000, pageToken: '', principal: '', resourcePrefix: '', action: '' }, admin);
    expect(after.entries.map((e) => e.entryId)).toContain(before.entries[0].entryId);
  });
});
