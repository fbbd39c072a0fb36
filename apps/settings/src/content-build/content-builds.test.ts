// Connection settings save and the content build: messages, packages per OS, failures, restart.
import { spawnSync } from 'node:child_process';
import { X509Certificate, createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CONTENT_BUILD_MESSAGE, SAVED_MESSAGE } from '../connection-settings/connection-settings';
import { provisionPayload } from '../testing/certificates';
import { openTestSettings, type TestSettings } from '../testing/test-settings';

let t: TestSettings;
afterEach(async () => t?.cleanup());

/** Reads one entry of a ZIP with python's zipfile, an implementation independent of ours. */
function unzipEntry(zip: Buffer, entry: string): string {
  const file = join(t.dataDir, 'package.zip');
  writeFileSync(file, zip);
  const r = spawnSync('python3', ['-c', 'import sys,zipfile; sys.stdout.write(zipfile.ZipFile(sys.argv[1]).read(sys.argv[2]).decode())', file, entry], {
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(r.stderr);
  return r.stdout;
}

describe('endpoint connection settings and the content build', () => {
  it('returns both SPEC messages on save, then builds one package per OS', async () => {
    t = openTestSettings();
    const s = t.settings;
    const zone = s.zoneProxies.add('op', {
      name: 'dmz-1',
      provisionPayload: provisionPayload(),
      endpointTargetHostname: 'zone.example.com',
      endpointInboundIp: '192.0.2.10',
      moduleServerTargetHostname: 'zone-internal.example.com',
      moduleServerInboundIp: '198.51.100.7',
    }).zoneProxy;
    s.recorderConfig.put('op', { module: 'im', recorder: '{"maxSizeMB": 2048}', filters: '', watchlist: '', signals: '' });
    const saved = await s.connectionSettings.save('op', { fqdn: 'Broker.Example.com', actionLock: 'ALLOW_NEW_CONNECTIONS' });
    expect(saved.messages).toEqual([SAVED_MESSAGE, CONTENT_BUILD_MESSAGE]);
    expect(saved.messages).toEqual([
      'The endpoint connection settings saved successfully.',
      'Content build is in progress. Connection settings will deploy to endpoints once complete.',
    ]);
    expect(saved.settings).toEqual({ fqdn: 'broker.example.com', port: 17475, actionLock: 'ALLOW_NEW_CONNECTIONS' });
    expect(saved.contentBuild.state).toBe('QUEUED');

    const build = await s.contentBuilds.settled(saved.contentBuild.buildId);
    expect(build.state).toBe('SUCCEEDED');
    expect(build.packages.map((p) => p.os)).toEqual(['WINDOWS', 'LINUX', 'MACOS']);
    expect(build.enrolmentTokenId).toBe(t.trust.tokens[0].tokenId);

    const linux = s.contentBuilds.endpointPackage('LINUX');
    expect(linux.summary.fileName).toBe(`direct-connect-linux-r${build.revision}.zip`);
    expect(linux.summary.sha256).toBe(createHash('sha256').update(linux.content).digest('hex'));
    const config = linux.configuration;
    expect(config).toMatchObject({ revision: build.revision, brokerHost: 'broker.example.com', brokerPort: 17475, enrolmentToken: t.trust.tokens[0].token });
    expect(new X509Certificate(config.trustBundlePem).subject).toContain('Direct Connect Test CA');
    expect(config.zoneRoutes).toEqual([{ zoneProxyId: zone.id, zoneProxyName: 'dmz-1', host: 'zone.example.com', port: 17486 }]);
    expect(config.heartbeatPolicy?.interval).toEqual({ seconds: 30, nanos: 0 });
    expect(config.recorderFiles).toEqual([{ name: 'im_recorder.json', content: '{"maxSizeMB": 2048}' }]);

    const inZip = JSON.parse(unzipEntry(linux.content, 'configuration.json'));
    expect(inZip).toMatchObject({ brokerHost: 'broker.example.com', brokerPort: 17475, actionLockMode: 'ACTION_LOCK_MODE_ALLOW_NEW_CONNECTIONS' });
    expect(unzipEntry(linux.content, 'recorder/im_recorder.json')).toBe('{"maxSizeMB": 2048}');
    expect(JSON.parse(unzipEntry(linux.content, 'manifest.json'))).toMatchObject({ os: 'LINUX', revision: build.revision, toolsDirectory: '/opt/direct-connect/Tools/Trace' });
    expect(new Set(build.packages.map((p) => p.sha256)).size).toBe(3);
    expect(s.contentBuilds.latestSucceeded()?.buildId).toBe(build.buildId);
  });

  it('never puts the enrolment token in the build record or the audit log', async () => {
    t = openTestSettings();
    const saved = await t.settings.connectionSettings.save('op', { fqdn: '10.0.0.5' });
    await t.settings.contentBuilds.settled(saved.contentBuild.buildId);
    const token = t.settings.contentBuilds.endpointPackage('WINDOWS').configuration.enrolmentToken;
    expect(token).toMatch(/^dcet_/);
    expect(JSON.stringify(t.settings.store.changesSince(0))).not.toContain(token);
    expect(JSON.stringify(t.settings.contentBuilds.list())).not.toContain(token);
  });

  it('records a failed build when the certificate authority cannot be reached', async () => {
    t = openTestSettings();
    t.trust.failWith = new Error('cert-authority 127.0.0.1:17482 unavailable');
    const saved = await t.settings.connectionSettings.save('op', { fqdn: 'broker.example.com' });
    const build = await t.settings.contentBuilds.settled(saved.contentBuild.buildId);
    expect(build).toMatchObject({ state: 'FAILED', error: 'cert-authority 127.0.0.1:17482 unavailable' });
    expect(() => t.settings.contentBuilds.endpointPackage('LINUX', build.buildId)).toThrow('is FAILED');
    t.trust.failWith = undefined;
  });

  it.each([
    [{ fqdn: 'exa mple.com' }, 'fqdn "exa mple.com": label "exa mple" is not a valid DNS label (letters, digits, hyphens; 1–63 chars)'],
    [{ fqdn: 'broker' }, 'fqdn "broker": is a single-label name'],
    [{ fqdn: 'broker.example.com', port: 17476 }, 'port 17476: the endpoint connection port is fixed at 17475'],
    [{ fqdn: 'broker.example.com', actionLock: 'SOMETIMES' }, 'actionLock "SOMETIMES": must be one of BLOCK_ALL'],
  ])('refuses %j and saves nothing', async (input, message) => {
    t = openTestSettings();
    await expect(t.settings.connectionSettings.save('op', input as never)).rejects.toThrow(message);
    expect(t.settings.connectionSettings.get()).toBeUndefined();
    expect(t.settings.contentBuilds.list()).toEqual([]);
  });

  it('warns, but saves, when the FQDN does not resolve from the server', async () => {
    t = openTestSettings({
      resolver: async () => {
        throw new Error('getaddrinfo ENOTFOUND');
      },
    });
    const saved = await t.settings.connectionSettings.save('op', { fqdn: 'broker.internal.example' });
    expect(saved.warnings[0]).toContain('does not resolve from the settings server');
    expect(t.settings.connectionSettings.get()?.settings.fqdn).toBe('broker.internal.example');
    await t.settings.contentBuilds.settled(saved.contentBuild.buildId);
  });

  it('marks a build interrupted by a restart as failed and starts a new one', async () => {
    t = openTestSettings();
    const saved = await t.settings.connectionSettings.save('op', { fqdn: 'broker.example.com' });
    await t.settings.contentBuilds.settled(saved.contentBuild.buildId);
    // A crash mid-build leaves the record BUILDING with no process running it.
    const stuck = { ...t.settings.contentBuilds.get(saved.contentBuild.buildId), state: 'BUILDING', packages: [] };
    t.settings.store.put('test', 'content_build', stuck.buildId, stuck);
    const s = await t.reopen();
    s.contentBuilds.recoverInterrupted();
    const [latest, old] = s.contentBuilds.list();
    expect(old).toMatchObject({ buildId: stuck.buildId, state: 'FAILED', error: expect.stringContaining('interrupted by a restart') });
    expect((await s.contentBuilds.settled(latest.buildId)).state).toBe('SUCCEEDED');
  });
});
