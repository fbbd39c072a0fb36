// Reconnect backoff of zone links: exponential with a cap and jitter from an injected random source.

export interface BackoffPolicy {
  readonly initialMs: number;
  readonly maxMs: number;
  /** Up to this fraction is added at random (0.2 = +0–20 %). */
  readonly jitter: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 500, maxMs: 30_000, jitter: 0.2 };

/** Delay before attempt `attempt` (1 = the first retry). */
export function backoffDelay(policy: BackoffPolicy, attempt: number, random: () => number): number {
  const base = Math.min(policy.maxMs, policy.initialMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(base * (1 + policy.jitter * random()));
}
