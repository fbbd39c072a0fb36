// The reconnect spread of a broker shutdown: the window widens with the number of endpoints and
// the delays fill it evenly.
import { describe, expect, it } from 'vitest';
import { gateway } from '../contracts';
import { ControlChannelHub, type LiveChannel, reconnectWindowMs } from './control-channels';

function hubWith(n: number): { hub: ControlChannelHub; goaways: gateway.Goaway[] } {
  const goaways: gateway.Goaway[] = [];
  const hub = new ControlChannelHub({ clock: { now: () => 0 } });
  for (let i = 0; i < n; i++) {
    const ch: LiveChannel = { clientId: `ep-${i}`, remoteAddress: '127.0.0.1', connectedAt: 0, send: () => {}, end: (g) => g && goaways.push(g) };
    hub.attach(ch);
  }
  return { hub, goaways };
}
const delayMs = (g: gateway.Goaway) => g.reconnectAfter!.seconds * 1000 + g.reconnectAfter!.nanos / 1e6;

describe('goawayAll', () => {
  it('keeps the configured window while the rate allows it, and widens it to n / rate beyond', () => {
    expect(reconnectWindowMs(1000, { spreadMs: 30_000, ratePerSecond: 250 })).toBe(30_000);
    expect(reconnectWindowMs(10_000, { spreadMs: 30_000, ratePerSecond: 250 })).toBe(40_000);
    expect(reconnectWindowMs(10_000, { spreadMs: 0, ratePerSecond: 100 })).toBe(100_000);
  });

  it('tells every endpoint, with delays that fill the window evenly (no second gets more than its share)', () => {
    const n = 5000;
    const { hub, goaways } = hubWith(n);
    const r = hub.goawayAll(gateway.GoawayReason.GOAWAY_REASON_BROKER_SHUTDOWN, { spreadMs: 1000, ratePerSecond: 500 }, 'restart');
    expect(r).toEqual({ told: n, windowMs: 10_000 });
    expect(hub.size).toBe(0);
    expect(goaways).toHaveLength(n);
    const perSecond = new Array<number>(10).fill(0);
    for (const g of goaways) {
      expect(g.reason).toBe(gateway.GoawayReason.GOAWAY_REASON_BROKER_SHUTDOWN);
      const d = delayMs(g);
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThan(10_000);
      perSecond[Math.floor(d / 1000)]!++;
    }
    // Stratified: each second of the window holds 500 ± 1 reconnects (independent uniform
    // delays would spread about ±22 per second, and a run could exceed the rate).
    for (const c of perSecond) expect(Math.abs(c - 500)).toBeLessThanOrEqual(1);
  });
});
