// Live control channels, one per endpoint (DESIGN flow 3): send actions and pings, replace a
// duplicate, and tell everyone to reconnect — spread in time — when the broker stops.
import { randomUUID } from 'node:crypto';
import { DeadlineExceeded, Unavailable } from '@dc/service-kit';
import type { Clock } from '../clock';
import { gateway } from '../contracts';

export interface LiveChannel {
  readonly clientId: string;
  readonly remoteAddress: string;
  readonly connectedAt: number;
  send(message: gateway.ControlChannelResponse): void;
  /** Sends a Goaway (if given) and ends the call. */
  end(goaway?: gateway.Goaway): void;
}

interface PendingPing {
  readonly sentAt: number;
  readonly resolve: (r: { rttMs: number; endpointTime: number | null }) => void;
  readonly timer: NodeJS.Timeout;
}

export class ControlChannelHub {
  private readonly channels = new Map<string, LiveChannel>();
  private readonly pings = new Map<string, PendingPing>();

  constructor(private readonly deps: { clock: Clock; random?: () => number }) {}

  /** Registers the channel; a previous channel of the same endpoint is told to go away and ended. */
  attach(channel: LiveChannel): void {
    const previous = this.channels.get(channel.clientId);
    this.channels.set(channel.clientId, channel);
    previous?.end({ reason: gateway.GoawayReason.GOAWAY_REASON_DUPLICATE_CONNECTION, detail: 'a newer control channel from this endpoint replaced this one' });
  }

  /** Forgets the channel if it is still the current one; true if it was. */
  detach(channel: LiveChannel): boolean {
    if (this.channels.get(channel.clientId) !== channel) return false;
    this.channels.delete(channel.clientId);
    return true;
  }

  get(clientId: string): LiveChannel | undefined {
    return this.channels.get(clientId);
  }

  isConnected(clientId: string): boolean {
    return this.channels.has(clientId);
  }

  get size(): number {
    return this.channels.size;
  }

  connectedIds(): string[] {
    return [...this.channels.keys()];
  }

  sendAction(clientId: string, action: gateway.Action): void {
    const ch = this.channels.get(clientId);
    if (!ch) throw new Unavailable(`endpoint ${clientId} has no control channel right now`);
    ch.send({ message: { $case: 'action', value: action } });
  }

  /** Round trip over the control channel (TestConnection, SPEC 1.6). */
  ping(clientId: string, timeoutMs: number): Promise<{ rttMs: number; endpointTime: number | null }> {
    const ch = this.channels.get(clientId);
    if (!ch) return Promise.reject(new Unavailable(`endpoint ${clientId} has no control channel right now`));
    const pingId = randomUUID();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pings.delete(pingId);
        reject(new DeadlineExceeded(`endpoint ${clientId} did not answer the ping within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pings.set(pingId, { sentAt: performance.now(), resolve, timer });
      ch.send({ message: { $case: 'ping', value: { pingId, serverTime: new Date(this.deps.clock.now()) } } });
    });
  }

  pong(p: gateway.EndpointPong): void {
    const pending = this.pings.get(p.pingId);
    if (!pending) return;
    this.pings.delete(p.pingId);
    clearTimeout(pending.timer);
    pending.resolve({ rttMs: performance.now() - pending.sentAt, endpointTime: p.endpointTime ? p.endpointTime.getTime() : null });
  }

  /**
   * Tells every endpoint to reconnect (broker shutdown), each at its own reconnect_after, so a
   * restart is not followed by a reconnect storm. The window is at least spreadMs and long
   * enough that the reconnects arrive at no more than ratePerSecond; the delays are stratified
   * (one per slot of the window, at a random point of its slot), so the arrival rate is even,
   * not clumped as independent random delays would be.
   */
  goawayAll(reason: gateway.GoawayReason, spread: { spreadMs: number; ratePerSecond: number }, detail: string): { told: number; windowMs: number } {
    const all = [...this.channels.values()];
    const random = this.deps.random ?? Math.random;
    const windowMs = reconnectWindowMs(all.length, spread);
    all.forEach((ch, slot) => {
      const ms = Math.floor(((slot + random()) / all.length) * windowMs);
      ch.end({ reason, detail, reconnectAfter: { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1_000_000 } });
    });
    this.channels.clear();
    return { told: all.length, windowMs };
  }
}

/** The reconnect window for n endpoints: at least spreadMs, and n / ratePerSecond seconds. */
export function reconnectWindowMs(n: number, spread: { spreadMs: number; ratePerSecond: number }): number {
  return Math.max(spread.spreadMs, spread.ratePerSecond > 0 ? Math.ceil((n / spread.ratePerSecond) * 1000) : 0);
}
