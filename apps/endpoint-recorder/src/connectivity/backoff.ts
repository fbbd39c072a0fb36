// Reconnect delays with "full jitter" (random between 0 and an exponential cap), so a fleet
// reconnecting after a broker restart spreads out instead of arriving at once.
export interface BackoffOptions {
  readonly baseMs?: number;
  readonly maxMs?: number;
  /** A source of chance in [0, 1) (injected for tests). */
  readonly random?: () => number;
}

export class Backoff {
  private attempt = 0;
  private readonly baseMs: number;
  private readonly maxMs: number;
  private readonly random: () => number;

  constructor(opts: BackoffOptions = {}) {
    this.baseMs = opts.baseMs ?? 1000;
    this.maxMs = opts.maxMs ?? 60_000;
    this.random = opts.random ?? Math.random;
  }

  /** The delay before the next attempt; each call widens the window up to maxMs. */
  next(): number {
    const cap = Math.min(this.maxMs, this.baseMs * 2 ** Math.min(this.attempt, 30));
    this.attempt++;
    return Math.floor(this.random() * cap);
  }

  /** After a success: the next failure starts from the smallest window again. */
  reset(): void {
    this.attempt = 0;
  }

  get attempts(): number {
    return this.attempt;
  }
}

/** The broker's Goaway reconnect_after plus up to 20% jitter (gateway contract). */
export function goawayDelay(reconnectAfterMs: number, random: () => number = Math.random): number {
  return Math.floor(reconnectAfterMs * (1 + 0.2 * random()));
}
