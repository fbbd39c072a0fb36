import { X509Certificate, createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { CONTENT_BUILD_MESSAGE, SAVED_MESSAGE } from '../connection-settings/connection-settings';
import { provisionPayload } from '../testing/certificates';
import { openTestSettings, type TestSettings } from '../testing/test-settings';
import { canonicalJson } from './content-builds';

let t: TestSettings;
afterEach(async () => t?.cleanup());

describe('endpoint connection settings and the content build', () => {
  it('returns both SPEC messages on save, then builds one package per OS', async () => {
    t = openTestSettings();
    const s = t.settings;
    s.zoneProxies.add('op', {
      name: 'dmz-1',
      provisionPayload: provisionPayload(),
      endpointTargetHostname: 'zone.example.com',
      endpointInboundIp: '192.0.2.10',
      moduleServerTargetHostname: 'zone-internal.example.com',
      moduleServerInboundIp: '198.51.100.7',
    });
    const saved = await s.connectionSettings.save('op', { fqdn: 'Broker.Example.com', actionLock: 'ALLOW_NEW_CONNECTIONS' });
    expect(saved.messages).toEqual([SAVED_MESSAGE, CONTENT_BUILD_MESSAGE]);
    expect(saved.messages).toEqual([
      'The endpoint connection settings saved successfully.',
      'Content build is in progress. Connection settings will deploy to endpoints once complete.',
    ]);
    expect(saved.settings).toEqual({ fqdn: 'broker.example.com', port: 17475, actionLock: 'ALLOW_NEW_CONNECTIONS' });
    expect(saved.contentBuild.status).toBe('IN_PROGRESS');

    const build = await s.contentBuilds.settled(saved.contentBuild.version);
    expect(build.status).toBe('SUCCEEDED');
    expect(build.packages.map((p) => p.os)).toEqual(['WINDOWS', 'LINUX', 'MACOS']);
    const linux = build.packages[1];
    expect(linux.brokerAddress).toBe('broker.example.com:17475');
    expect(linux.actionLock).toBe('ALLOW_NEW_CONNECTIONS');
    expect(new X509Certificate(linux.caTrustBundle).subject).toContain('Direct Connect Test CA');
    expect(t.trust.tokens.map((x) => x.token)).toContain(linux.enrolmentToken);
    expect(linux.zoneRoutes).toEqual([expect.objectContaining({ zoneProxy: 'dmz-1', endpointTargetHostname: 'zone.example.com', endpointInboundPort: 17486 })]);
    expect(linux.heartbeatPolicy.intervalSeconds).toBe(30);
    const { sha256, ...rest } = linux;
    expect(sha256).toBe(createHash('sha256').update(canonicalJson(rest)).digest('hex'));
    expect(s.contentBuilds.latestSucceeded()?.version).toBe(build.version);
  });

  it('never puts enrolment tokens in the audit log', async () => {
    t = openTestSettings();
    const saved = await t.settings.connectionSettings.save('op', { fqdn: '10.0.0.5' });
    const build = await t.settings.contentBuilds.settled(saved.contentBuild.version);
    const log = JSON.stringify(t.settings.store.changesSince(0));
    expect(build.packages[0].enrolmentToken.length).toBeGreaterThan(10);
    expect(log).not.toContain(build.packages[0].enrolmentToken);
  });

  it('records a failed build when the certificate authority cannot be reached', async () => {
    t = openTestSettings();
    t.trust.failWith = new Error('cert-authority 127.0.0.1:17482 unavailable');
    const saved = await t.settings.connectionSettings.save('op', { fqdn: 'broker.example.com' });
    const build = await t.settings.contentBuilds.settled(saved.contentBuild.version);
    expect(build).toMatchObject({ status: 'FAILED', error: 'cert-authority 127.0.0.1:17482 unavailable' });
    t.trust.failWith = undefined;
  });

  it.each([
    [{ fqdn: 'exa mple.com' }, 'fqdn "exa mple.com": label "exa mple" is not a valid DNS label (letters, digits, hyphens; 1–63 chars)'],
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
    await t.settings.contentBuilds.settled(saved.contentBuild.version);
  });

  it('marks a build interrupted by a restart as failed and starts a new one', async () => {
    t = openTestSettings();
    await t.settings.connectionSettings.save('op', { fqdn: 'broker.example.com' });
    // Simulate a crash mid-build: the record says IN_PROGRESS, no process is running it.
    const stuck = { ...t.settings.contentBuilds.list()[0], status: 'IN_PROGRESS', packages: [] };
    await t.settings.contentBuilds.drain();
    t.settings.store.put('test', 'content_build', String(stuck.version).padStart(10, '0'), stuck);
    const s = await t.reopen();
    s.contentBuilds.recoverInterrupted();
    const [latest, old] = s.contentBuilds.list();
    expect(old).toMatchObject({ version: stuck.version, status: 'FAILED', error: expect.stringContaining('interrupted by a restart') });
    expect((await s.contentBuilds.settled(latest.version)).status).toBe('SUCCEEDED');
  });
});
