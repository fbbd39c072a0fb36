import { describe, expect, it } from 'vitest';
import { Backoff, goawayDelay } from './backoff';

describe('reconnect backoff', () => {
  it('widens the jitter window exponentially up to the cap', () => {
    const b = new Backoff({ baseMs: 100, maxMs: 1000, random: () => 0.999999 });
    expect([b.next(), b.next(), b.next(), b.next(), b.next(), b.next()]).toEqual([99, 199, 399, 799, 999, 999]);
  });

  it('spreads a fleet across the whole window (full jitter)', () => {
    const delays = Array.from({ length: 1000 }, () => new Backoff({ baseMs: 10_000, maxMs: 10_000 }).next());
    const buckets = [0, 0, 0, 0];
    for (const d of delays) buckets[Math.floor(d / 2500)]!++;
    for (const n of buckets) expect(n).toBeGreaterThan(150);
  });

  it('starts over after a success', () => {
    const b = new Backoff({ baseMs: 100, maxMs: 10_000, random: () => 0.5 });
    b.next();
    b.next();
    b.reset();
    expect(b.next()).toBe(50);
  });

  it('adds up to 20% to the broker\'s reconnect_after', () => {
    expect(goawayDelay(10_000, () => 0)).toBe(10_000);
    expect(goawayDelay(10_000, () => 0.9999)).toBe(11_999);
  });
});
