// The settings service through its real gRPC API: the built process on 127.0.0.1, one process for this file.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import { commonV1, settingsV1 } from '@dc/proto';
import { distEntry, makeTempDir, type SpawnedService, spawnService, waitFor } from '@dc/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { provisionPayload } from '../testing/certificates';
import { codeOf, type SettingsClients, settingsClients } from '../testing/grpc-clients';

const P = commonV1.Permission;
const R = commonV1.Role;

let tmp: { dir: string; remove(): void };
let service: SpawnedService;
let api: SettingsClients;
let admin: string;
/** A token per SPEC 1.3 role. */
const tokenOf: Record<string, string> = {};

beforeAll(async () => {
  tmp = makeTempDir('dc-settings-api-');
  service = await spawnService({
    entry: distEntry('apps/settings'),
    args: ['--data-dir', tmp.dir, '--port', '0'],
    env: { DC_SETTINGS_METRICS__PORT: '0', DC_SETTINGS_SETUP__INSTALLING_IDENTITY: 'svc-installer' },
  });
  api = settingsClients(`127.0.0.1:${service.ports.grpc}`);
  admin = readFileSync(join(tmp.dir, 'admin.token'), 'utf8').trim();
  for (const [name, role] of [
    ['ann-admin', R.ROLE_ADMINISTRATOR],
    ['rob-readonly', R.ROLE_READ_ONLY_USER],
    ['sam-service', R.ROLE_SERVICE_ACCOUNT],
    ['uma-user', R.ROLE_USER],
  ] as const) {
    await api.rbac.call('createUser', { name, displayName: '', roles: [role] }, admin);
    const { secret } = await api.rbac.call('createApiToken', { userId: name, name: 'test', ttl: { seconds: 3600, nanos: 0 } }, admin);
    tokenOf[R[role]] = secret;
  }
});

afterAll(async () => {
  api?.close();
  await service?.stop();
  tmp?.remove();
});

/** SPEC 1.3, transcribed independently: ✓ per role (Administrator, Read Only User, Service Account, User). */
const SPEC_TABLE: Array<[commonV1.Permission, [boolean, boolean, boolean, boolean]]> = [
  [P.PERMISSION_SHOW_DIRECT_CONNECT, [true, true, false, true]],
  [P.PERMISSION_SESSION_READ, [true, true, false, true]],
  [P.PERMISSION_SESSION_WRITE, [true, false, false, true]],
  [P.PERMISSION_SETTINGS_READ, [true, true, false, true]],
  [P.PERMISSION_SETTINGS_WRITE, [true, false, false, false]],
  [P.PERMISSION_LOGS_READ, [true, false, false, true]],
  [P.PERMISSION_CRON_EXEC, [false, false, true, false]],
];
const ROLES = ['ROLE_ADMINISTRATOR', 'ROLE_READ_ONLY_USER', 'ROLE_SERVICE_ACCOUNT', 'ROLE_USER'];

describe('RBAC through the API', () => {
  it('answers CheckPermission for each role and each permission exactly as the SPEC 1.3 table', async () => {
    for (const [permission, row] of SPEC_TABLE) {
      for (const [i, role] of ROLES.entries()) {
        const res = await api.rbac.call('checkPermission', { token: tokenOf[role], permission, alternatives: [], method: '/test' });
        expect([P[permission], role, res.allowed]).toEqual([P[permission], role, row[i]]);
        expect(res.principal?.roles).toEqual([R[role as keyof typeof R]]);
      }
    }
  });

  it('refuses each role the rpcs whose permission it lacks with PERMISSION_DENIED, and changes nothing', async () => {
    // One rpc per permission settings enforces itself.
    const rpcs: Array<[commonV1.Permission, (token: string) => Promise<unknown>]> = [
      [P.PERMISSION_SETTINGS_READ, (t) => api.rbac.call('listUsers', { pageSize: 0, pageToken: '' }, t)],
      [
        P.PERMISSION_SETTINGS_WRITE,
        (t) => api.policy.call('setLogLevel', { component: commonV1.Component.COMPONENT_ZONE_PROXY, level: commonV1.LogLevel.LOG_LEVEL_DEBUG }, t),
      ],
      [P.PERMISSION_LOGS_READ, (t) => api.audit.call('listAuditEntries', { pageSize: 1, pageToken: '', principal: '', resourcePrefix: '', action: '' }, t)],
      [P.PERMISSION_CRON_EXEC, (t) => api.zoneProxies.call('getZoneProxyProvisioning', { zoneProxyId: 'zp_missing' }, t)],
    ];
    for (const [permission, rpc] of rpcs) {
      const row = SPEC_TABLE.find(([p]) => p === permission)![1];
      for (const [i, role] of ROLES.entries()) {
        const code = await codeOf(rpc(tokenOf[role]));
        // Allowed callers get past RBAC (OK, or NOT_FOUND for the missing zone proxy).
        const expected = row[i] ? [status.OK, status.NOT_FOUND] : [status.PERMISSION_DENIED];
        expect([P[permission], role, expected.includes(code)]).toEqual([P[permission], role, true]);
      }
    }
    const levels = await api.policy.call('getLogLevels', {}, admin);
    const zone = levels.levels.find((l) => l.component === commonV1.Component.COMPONENT_ZONE_PROXY);
    expect(zone?.level).toBe(commonV1.LogLevel.LOG_LEVEL_DEBUG); // set by the administrator only
  });

  it('names the missing permission in the denial, and audits it', async () => {
    const err = await api.rbac.call('createUser', { name: 'x', displayName: '', roles: [R.ROLE_USER] }, tokenOf.ROLE_USER).catch((e) => e);
    expect(err.code).toBe(status.PERMISSION_DENIED);
    expect(err.details).toContain('lacks SETTINGS_WRITE');
    const audit = await api.audit.call('listAuditEntries', { pageSize: 5, pageToken: '', principal: 'uma-user', resourcePrefix: '', action: 'CreateUser' }, admin);
    expect(audit.entries[0]).toMatchObject({ outcome: settingsV1.AuditOutcome.AUDIT_OUTCOME_DENIED, resource: 'rpc/CreateUser' });
  });

  it('refuses a missing, unknown or revoked token with UNAUTHENTICATED', async () => {
    expect(await codeOf(api.rbac.call('whoAmI', {}))).toBe(status.UNAUTHENTICATED);
    expect(await codeOf(api.rbac.call('whoAmI', {}, 'dct_0000000000000000_' + 'A'.repeat(43)))).toBe(status.UNAUTHENTICATED);
    const { token, secret } = await api.rbac.call('createApiToken', { userId: 'uma-user', name: 'short', ttl: undefined }, admin);
    expect((await api.rbac.call('whoAmI', {}, secret)).principal?.name).toBe('uma-user');
    await api.rbac.call('revokeApiToken', { tokenId: token!.tokenId }, admin);
    expect(await codeOf(api.rbac.call('whoAmI', {}, secret))).toBe(status.UNAUTHENTICATED);
    const check = await api.rbac.call('checkPermission', { token: secret, permission: P.PERMISSION_SESSION_READ, alternatives: [], method: '' });
    expect(check).toMatchObject({ allowed: false, denialReason: expect.stringContaining('was revoked') });
  });

  it('lists tokens without their secrets', async () => {
    const list = await api.rbac.call('listApiTokens', { pageSize: 0, pageToken: '', userId: 'uma-user', includeRevoked: true }, admin);
    expect(list.tokens.length).toBeGreaterThanOrEqual(2);
    expect(JSON.stringify(list)).not.toContain(tokenOf.ROLE_USER.slice('dct_0123456789abcdef_'.length));
  });
});

describe('endpoint connection settings through the API', () => {
  it('saves with both SPEC messages and refuses a bad FQDN or port, naming field, rule and value', async () => {
    const res = await api.connection.call('updateConnectionSettings', { fqdn: 'broker.example.com', port: 0, actionLockMode: 0, skipResolutionCheck: true }, admin);
    expect(res.messages).toEqual([
      'The endpoint connection settings saved successfully.',
      'Content build is in progress. Connection settings will deploy to endpoints once complete.',
    ]);
    expect(res.settings).toMatchObject({ fqdn: 'broker.example.com', port: 17475, updatedBy: 'admin' });
    const bad = await api.connection.call('updateConnectionSettings', { fqdn: 'exa mple.com', port: 0, actionLockMode: 0, skipResolutionCheck: true }, admin).catch((e) => e);
    expect(bad.code).toBe(status.INVALID_ARGUMENT);
    expect(bad.details).toBe('fqdn "exa mple.com": label "exa mple" is not a valid DNS label (letters, digits, hyphens; 1–63 chars)');
    const port = await api.connection.call('updateConnectionSettings', { fqdn: 'broker.example.com', port: 17476, actionLockMode: 0, skipResolutionCheck: true }, admin).catch((e) => e);
    expect(port.details).toContain('port 17476: the endpoint connection port is fixed at 17475');
    const current = await api.connection.call('getConnectionSettings', {}, tokenOf.ROLE_READ_ONLY_USER);
    expect(current.settings?.fqdn).toBe('broker.example.com');
  });
});

describe('zone proxies through the API', () => {
  const add = (over: Partial<settingsV1.AddZoneProxyRequest> = {}) =>
    api.zoneProxies.call('addZoneProxy', {
        name: 'dmz-1',
        provisionPayload: provisionPayload(),
        endpointTargetHostname: 'zone.example.com',
        endpointInboundIpAddress: '192.0.2.10',
        endpointInboundPort: 0,
        moduleServerTargetHostname: '198.51.100.7',
        moduleServerInboundIpAddress: '198.51.100.7',
        moduleServerInboundPort: 0,
        ...over,
      },
      admin,
    );

  it('adds, lists with status, refuses an update with the SPEC reason, and deletes', async () => {
    const { zoneProxy } = await add();
    expect(zoneProxy).toMatchObject({ name: 'dmz-1', endpointInboundPort: 17486, moduleServerInboundPort: 17487, status: commonV1.ZoneProxyStatus.ZONE_PROXY_STATUS_PROVISIONING });
    const listed = await api.zoneProxies.call('listZoneProxies', { pageSize: 0, pageToken: '' }, tokenOf.ROLE_READ_ONLY_USER);
    expect(listed.zoneProxies.map((z) => z.name)).toContain('dmz-1');
    const update = await api.zoneProxies.call('updateZoneProxy', { zoneProxyId: zoneProxy!.zoneProxyId }, admin).catch((e) => e);
    expect(update.code).toBe(status.UNIMPLEMENTED);
    expect(update.details).toContain('cannot be modified because it is bound to its provisioning; delete the zone proxy and add it again (SPEC 1.4.6)');
    const prov = await api.zoneProxies.call('getZoneProxyProvisioning', { zoneProxyId: zoneProxy!.zoneProxyId }, tokenOf.ROLE_SERVICE_ACCOUNT);
    expect(prov.provisionSecret).toHaveLength(32);
    await api.zoneProxies.call('deleteZoneProxy', { zoneProxyId: zoneProxy!.zoneProxyId }, admin);
    expect(await codeOf(api.zoneProxies.call('getZoneProxy', { zoneProxyId: zoneProxy!.zoneProxyId }, admin))).toBe(status.NOT_FOUND);
  });

  it.each([
    ['a missing certificate block', () => provisionPayload().split('-----BEGIN CERTIFICATE-----')[0], 'the CERTIFICATE block is missing'],
    ['a missing secret block', () => '-----BEGIN CERTIFICATE-----' + provisionPayload().split('-----BEGIN CERTIFICATE-----')[1], 'the PROVISION SECRET block is missing'],
    ['a short secret', () => provisionPayload({ secretBytes: 16 }), 'the provision secret is 16 bytes; at least 32 are required'],
    ['a bad certificate', () => provisionPayload({ der: Buffer.from('not a certificate') }), 'the certificate does not parse as an X.509 DER certificate'],
  ])('refuses a provision payload with %s', async (_case, payload, message) => {
    const err = await add({ name: 'dmz-bad', provisionPayload: payload() }).catch((e) => e);
    expect(err.code).toBe(status.INVALID_ARGUMENT);
    expect(err.details).toContain(`provisionPayload: ${message}`);
  });
});

describe('the watch stream', () => {
  it('delivers a log-level change to a running watcher, and replays it to one that reconnects', async () => {
    const { watch } = api;
    const { Metadata } = await import('@grpc/grpc-js');
    const md = new Metadata();
    md.set('authorization', `Bearer ${tokenOf.ROLE_SERVICE_ACCOUNT}`);
    const stream = watch.client.watch({ kinds: [settingsV1.ChangeKind.CHANGE_KIND_LOG_LEVEL], sinceRevision: 0 }, md);
    const seen: settingsV1.WatchResponse[] = [];
    stream.on('data', (m: settingsV1.WatchResponse) => seen.push(m));
    stream.on('error', () => undefined);
    await waitFor(() => seen.length >= 1, { what: 'the snapshot' });
    expect(seen[0]).toMatchObject({ kind: settingsV1.ChangeKind.CHANGE_KIND_LOG_LEVEL, snapshot: true });
    await api.policy.call('setLogLevel', { component: commonV1.Component.COMPONENT_SETTINGS, level: commonV1.LogLevel.LOG_LEVEL_DEBUG }, admin);
    const change = await waitFor(() => seen.find((m) => !m.snapshot), { what: 'the change' });
    const levels = change.payload?.$case === 'logLevels' ? change.payload.value.levels : [];
    expect(levels.find((l) => l.component === commonV1.Component.COMPONENT_SETTINGS)?.level).toBe(commonV1.LogLevel.LOG_LEVEL_DEBUG);
    stream.cancel();

    // The service applied its own new level without a restart.
    await service.waitForLog((l) => l.msg === 'log level changed' && l.newLevel === 'debug');

    await api.policy.call('setLogLevel', { component: commonV1.Component.COMPONENT_MODULE_SERVER, level: commonV1.LogLevel.LOG_LEVEL_WARN }, admin);
    const again = watch.client.watch({ kinds: [settingsV1.ChangeKind.CHANGE_KIND_LOG_LEVEL], sinceRevision: change.revision }, md);
    const replayed: settingsV1.WatchResponse[] = [];
    again.on('data', (m: settingsV1.WatchResponse) => replayed.push(m));
    again.on('error', () => undefined);
    const missed = await waitFor(() => replayed[0], { what: 'the replayed change' });
    expect(missed.snapshot).toBe(false);
    expect(missed.revision).toBeGreaterThan(change.revision);
    const after = missed.payload?.$case === 'logLevels' ? missed.payload.value.levels : [];
    expect(after.find((l) => l.component === commonV1.Component.COMPONENT_MODULE_SERVER)?.level).toBe(commonV1.LogLevel.LOG_LEVEL_WARN);
    again.cancel();
  });
});

describe('start-up', () => {
  it('refuses a bad configuration with the key, its source and the rule, and exits', async () => {
    const other = makeTempDir('dc-settings-badconfig-');
    try {
      await expect(
        spawnService({ entry: distEntry('apps/settings'), args: ['--data-dir', other.dir, '--port', '0'], env: { DC_SETTINGS_CA__ADDRESS: '127.0.0.1:1' } }),
      ).rejects.toThrow('config key "ca.trustBundleFile": required when ca.address is set');
    } finally {
      other.remove();
    }
  });
});

describe('the watch stream refuses', () => {
  it('a watcher without a token (UNAUTHENTICATED) and sends it nothing', async () => {
    const stream = api.watch.client.watch({ kinds: [], sinceRevision: 0 });
    const got: unknown[] = [];
    stream.on('data', (m) => got.push(m));
    const err = await new Promise<{ code: number; details: string }>((resolve) => stream.on('error', resolve));
    expect(err.code).toBe(status.UNAUTHENTICATED);
    expect(err.details).toContain('no bearer token');
    expect(got).toEqual([]);
  });
});

describe('recorder configuration through the API', () => {
  it('returns every validation error at once and stores nothing, then stores a valid module and merges it', async () => {
    const bad = await api.recorder.call('putRecorderConfig', { config: { module: 'im', recorderJson: '{"cpuThreshold": 5}', filtersJson: '{"version": 2, "rules": []}', watchlistJson: '', signalsJson: '', revision: 0, updatedBy: '' }, validateOnly: false },
      admin,
    );
    expect(bad.config).toBeUndefined();
    expect(bad.errors.map((e) => [e.file, e.jsonPath])).toEqual([
      [settingsV1.RecorderConfigFile.RECORDER_CONFIG_FILE_RECORDER, '$.cpuThreshold'],
      [settingsV1.RecorderConfigFile.RECORDER_CONFIG_FILE_FILTERS, '$.version'],
    ]);
    const good = await api.recorder.call('putRecorderConfig', { config: { module: 'im', recorderJson: '{"maxSizeMB": 4096, "rawLogging": false}', filtersJson: '', watchlistJson: '{"paths": ["/etc/"]}', signalsJson: '', revision: 0, updatedBy: '' }, validateOnly: false },
      admin,
    );
    expect(good.errors).toEqual([]);
    const merged = await api.recorder.call('getMergedRecorderConfig', { os: commonV1.OperatingSystem.OPERATING_SYSTEM_LINUX }, tokenOf.ROLE_SERVICE_ACCOUNT);
    expect(JSON.parse(merged.recorderJson)).toMatchObject({ maxSizeMB: 4096, rawLogging: false, cpuThreshold: 0.25 });
    expect(merged.fields.find((f) => f.name === 'maxSizeMB')).toMatchObject({ decidedBy: ['im'], strategy: settingsV1.MergeStrategy.MERGE_STRATEGY_LARGEST });
  });
});
