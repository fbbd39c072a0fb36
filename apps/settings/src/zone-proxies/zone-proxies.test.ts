// Zone proxies: add, list without secrets, refuse updates, delete and recreate (SPEC 1.4.6).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { provisionPayload } from '../testing/certificates';
import { openTestSettings, type TestSettings } from '../testing/test-settings';
import type { AddZoneProxyInput } from './zone-proxies';

let t: TestSettings;
afterEach(async () => t?.cleanup());

const input = (over: Partial<AddZoneProxyInput> = {}): AddZoneProxyInput => ({
  name: 'dmz-1',
  provisionPayload: provisionPayload(),
  endpointTargetHostname: 'zone.example.com',
  endpointInboundIp: '192.0.2.10',
  moduleServerTargetHostname: '198.51.100.7',
  moduleServerInboundIp: '198.51.100.7',
  ...over,
});

describe('zone proxies', () => {
  it('adds a zone proxy with the default ports and lists it without its secret', () => {
    t = openTestSettings();
    const { zoneProxy } = t.settings.zoneProxies.add('op', input());
    expect(zoneProxy).toMatchObject({ name: 'dmz-1', endpointInboundPort: 17486, moduleServerInboundPort: 17487, status: 'PROVISIONING' });
    expect(t.settings.zoneProxies.list()).toHaveLength(1);
    expect(t.settings.zoneProxies.list()[0]).not.toHaveProperty('provisionSecret');
    expect(t.settings.zoneProxies.provisionSecret(zoneProxy.id)).toHaveLength(32);
  });

  it('keeps the provision secret encrypted at rest', () => {
    t = openTestSettings();
    const payload = provisionPayload();
    const secret = payload.split('\n')[1];
    const { zoneProxy } = t.settings.zoneProxies.add('op', input({ provisionPayload: payload }));
    // Every file of the store (the WAL too), as text and as raw bytes.
    const files = readdirSync(t.dataDir).filter((f) => f.startsWith('settings.db'));
    expect(files).toContain('settings.db-wal');
    for (const f of files) {
      const bytes = readFileSync(join(t.dataDir, f));
      expect(bytes.includes(secret)).toBe(false);
      expect(bytes.includes(Buffer.from(secret, 'base64'))).toBe(false);
    }
    expect(readFileSync(join(t.dataDir, 'settings.db-wal')).includes(Buffer.from('dmz-1'))).toBe(true); // the record is there
    expect(t.settings.zoneProxies.provisionSecret(zoneProxy.id).toString('base64')).toBe(secret);
  });

  it('refuses an update with the SPEC reason, and allows delete and recreate', () => {
    t = openTestSettings();
    const payload = provisionPayload();
    const { zoneProxy } = t.settings.zoneProxies.add('op', input({ provisionPayload: payload }));
    expect(() => t.settings.zoneProxies.update(zoneProxy.id)).toThrow('delete the zone proxy and add it again (SPEC 1.4.6)');
    expect(() => t.settings.zoneProxies.add('op', input())).toThrow('zone proxy "dmz-1" already exists');
    expect(() => t.settings.zoneProxies.add('op', input({ name: 'dmz-2', provisionPayload: payload }))).toThrow('already used by zone proxy "dmz-1"');
    t.settings.zoneProxies.delete('op', zoneProxy.id);
    const again = t.settings.zoneProxies.add('op', input({ endpointInboundPort: 443 })).zoneProxy;
    expect(t.settings.zoneProxies.get(again.id).endpointInboundPort).toBe(443);
  });

  it.each([
    ['name', { name: 'bad name' }, 'name "bad name"'],
    ['endpointInboundIp', { endpointInboundIp: '2001:db8::1' }, 'endpointInboundIp "2001:db8::1": must be an IPv4 address'],
    ['moduleServerInboundIp', { moduleServerInboundIp: 'zone.example.com' }, 'moduleServerInboundIp "zone.example.com"'],
    ['endpointInboundPort', { endpointInboundPort: 70000 }, 'endpointInboundPort 70000: must be a port number from 1 to 65535'],
    ['moduleServerInboundPort', { moduleServerInboundPort: 17488 }, 'moduleServerInboundPort 17488: reserved for zone proxy provisioning'],
    ['endpointTargetHostname', { endpointTargetHostname: 'zo ne' }, 'endpointTargetHostname "zo ne"'],
    ['moduleServerInboundIp', { moduleServerInboundIp: '192.0.2.10', moduleServerInboundPort: 17486 }, 'the same address and port as the endpoint inbound binding'],
    ['provisionPayload', { provisionPayload: provisionPayload({ secretBytes: 8 }) }, 'provisionPayload: the provision secret is 8 bytes'],
  ])('refuses a bad field: %s', (_field, over, message) => {
    t = openTestSettings();
    expect(() => t.settings.zoneProxies.add('op', input(over))).toThrow(message);
    expect(t.settings.zoneProxies.list()).toEqual([]);
  });

  it('records the status the module server reports', () => {
    t = openTestSettings();
    const { zoneProxy } = t.settings.zoneProxies.add('op', input());
    t.settings.zoneProxies.reportStatus('module-server', zoneProxy.id, 'CONNECTED', 'link up', { endpointsConnected: 3 });
    expect(t.settings.zoneProxies.get(zoneProxy.id)).toMatchObject({ status: 'CONNECTED', statusDetail: 'link up', activity: { endpointsConnected: 3 } });
  });
});
