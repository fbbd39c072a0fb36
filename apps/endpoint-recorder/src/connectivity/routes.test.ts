import { commonV1 } from '@dc/proto';
import { describe, expect, it } from 'vitest';
import { RouteSelector, routesFromConfiguration } from './routes';

describe('routes from the endpoint package', () => {
  const cfg = (over: Partial<commonV1.EndpointConfiguration>) =>
    commonV1.EndpointConfiguration.fromPartial({
      brokerHost: 'dc.example.com',
      brokerPort: 17475,
      zoneRoutes: [
        { zoneProxyId: 'z1', zoneProxyName: 'dmz-a', host: 'zone-a.example.com', port: 17486 },
        { zoneProxyId: 'z2', zoneProxyName: '', host: '192.0.2.7', port: 0 },
      ],
      ...over,
    });

  it('tries the module server directly first, then each zone proxy in order', () => {
    expect(routesFromConfiguration(cfg({}))).toEqual([
      { name: 'direct', address: 'dc.example.com:17475' },
      { name: 'dmz-a', address: 'zone-a.example.com:17486' },
      { name: 'z2', address: '192.0.2.7:17486' },
    ]);
  });

  it('leaves the direct route out when the package disables it', () => {
    expect(routesFromConfiguration(cfg({ directRouteDisabled: true })).map((r) => r.name)).toEqual(['dmz-a', 'z2']);
  });

  it('refuses a package with no route at all', () => {
    expect(() => routesFromConfiguration(cfg({ brokerHost: '', zoneRoutes: [] }))).toThrow(/names no route/);
  });
});

describe('RouteSelector', () => {
  const routes = [
    { name: 'direct', address: 'a:1' },
    { name: 'dmz', address: 'b:2' },
  ];

  it('falls back to the next route when one is down, wrapping round', () => {
    const s = new RouteSelector(routes);
    expect(s.current().name).toBe('direct');
    s.failed();
    expect(s.current().name).toBe('dmz');
    s.failed();
    expect(s.current().name).toBe('direct');
  });

  it('returns to the preferred route after a while on a fallback, and not before', () => {
    let now = 0;
    const s = new RouteSelector(routes, { returnAfterMs: 60_000, now: () => now });
    s.failed();
    s.connected();
    now = 59_999;
    expect(s.shouldReturn()).toBe(false);
    now = 60_000;
    expect(s.shouldReturn()).toBe(true);
    s.reset();
    expect(s.current().name).toBe('direct');
    s.connected();
    now = 10_000_000;
    expect(s.shouldReturn()).toBe(false);
  });
});
