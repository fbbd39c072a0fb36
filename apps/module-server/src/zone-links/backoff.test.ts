import { describe, expect, it } from 'vitest';
import { backoffDelay, DEFAULT_BACKOFF } from './backoff';

describe('zone link backoff', () => {
  it('doubles from the initial delay up to the cap', () => {
    const noJitter = () => 0;
    expect([1, 2, 3, 4].map((a) => backoffDelay(DEFAULT_BACKOFF, a, noJitter))).toEqual([500, 1000, 2000, 4000]);
    expect(backoffDelay(DEFAULT_BACKOFF, 20, noJitter)).toBe(30_000);
  });

  it('adds at most the jitter fraction', () => {
    expect(backoffDelay(DEFAULT_BACKOFF, 1, () => 0.999)).toBe(600);
    expect(backoffDelay(DEFAULT_BACKOFF, 30, () => 1)).toBe(36_000);
  });
});
