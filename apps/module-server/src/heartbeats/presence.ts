// Endpoint presence (SPEC §3): hellos and heartbeats bring an endpoint online, the sweeper marks
// it Offline after the missed-heartbeat threshold, and every change is an event (and an alert
// when the policy says so).
import type { Logger } from 'pino';
import type { Clock } from '../clock';
import { gateway } from '../contracts';
import type { EventLog } from '../events/event-log';
import type { DisconnectReason, EndpointFacts, EndpointRecord, EndpointRegistry, GoodbyeReason } from '../registry/endpoint-registry';
import type { HeartbeatPolicy } from './heartbeat-policy';

export interface PresenceDeps {
  readonly registry: EndpointRegistry;
  readonly events: EventLog;
  readonly clock: Clock;
  readonly log: Logger;
  /** The current policy (read at every sweep, so a settings change applies at once). */
  readonly policy: () => HeartbeatPolicy;
}

export interface SweepResult {
  readonly wentOffline: string[];
  readonly alerted: string[];
}

/** What each Goodbye reason means, as the last disconnect's detail says it. */
const GOODBYE_TEXT: Record<GoodbyeReason, string> = {
  UNSPECIFIED: 'the endpoint said goodbye',
  MACHINE_SHUTDOWN: 'the machine is shutting down',
  AGENT_RESTART: 'the agent is restarting (expected back within a minute)',
  AGENT_STOPPED: 'the agent was stopped on the endpoint',
  TOOLS_REMOVED: 'the Direct Connect tools were removed from the endpoint',
};

export function goodbyeReasonName(r: gateway.GoodbyeReason): GoodbyeReason {
  const name = gateway.goodbyeReasonToJSON(r).replace(/^GOODBYE_REASON_/, '');
  return name in GOODBYE_TEXT ? (name as GoodbyeReason) : 'UNSPECIFIED';
}

export class Presence {
  /** Endpoints with an open offline alert, so a sweep does not query the store for each. */
  private readonly alerted = new Set<string>();
  /** The endpoint's own words with its Goodbye, until the channel ends. */
  private readonly goodbyeDetail = new Map<string, string>();

  constructor(private readonly deps: PresenceDeps) {
    for (const a of deps.events.alerts({ openOnly: true, limit: 1_000_000 })) if (a.kind === 'ENDPOINT_OFFLINE') this.alerted.add(a.clientId);
  }

  /** The endpoint opened its control channel and introduced itself. */
  hello(clientId: string, facts: EndpointFacts, opts: { clockSkewMs: number | null }): EndpointRecord {
    const now = this.deps.clock.now();
    const before = this.deps.registry.require(clientId);
    let rec = this.deps.registry.patch(clientId, {
      ...facts,
      connectedAt: now,
      firstConnectedAt: before.firstConnectedAt ?? now,
      lastHeartbeatAt: now,
      clockSkewMs: opts.clockSkewMs,
      goodbyeReason: null,
      goodbyeAt: null,
    });
    this.goodbyeDetail.delete(clientId);
    if (before.status !== 'ONLINE') rec = this.cameOnline(rec, before.status === 'OFFLINE' || before.status === 'STOPPED' ? 'endpoint returned' : 'endpoint came online');
    return rec;
  }

  heartbeat(clientId: string, facts?: Partial<EndpointFacts>): void {
    const now = this.deps.clock.now();
    const rec = this.deps.registry.get(clientId);
    if (!rec) return;
    if (facts && Object.keys(facts).length > 0) this.deps.registry.patch(clientId, facts);
    this.deps.registry.recordHeartbeat(clientId, now);
    if (rec.status !== 'ONLINE') this.cameOnline(this.deps.registry.require(clientId), 'endpoint returned');
  }

  /** The endpoint announced it is leaving on purpose; acted on when its channel ends. */
  goodbye(clientId: string, reason: gateway.GoodbyeReason, detail: string): void {
    if (!this.deps.registry.get(clientId)) return;
    this.deps.registry.patch(clientId, { goodbyeReason: goodbyeReasonName(reason), goodbyeAt: this.deps.clock.now() });
    this.goodbyeDetail.set(clientId, detail);
  }

  /**
   * The control channel ended. Without a Goodbye the endpoint stays Online until its heartbeats
   * are missed (SPEC §3.1). After Goodbye MACHINE_SHUTDOWN it is Stopped at once (SPEC §3.2: a
   * stopped machine reads "stopped", no offline alert); after TOOLS_REMOVED it is Removed; after
   * AGENT_RESTART / AGENT_STOPPED the last disconnect says so and heartbeats decide as usual.
   */
  disconnected(clientId: string, reason: DisconnectReason, detail: string): void {
    const now = this.deps.clock.now();
    const rec = this.deps.registry.get(clientId);
    if (!rec) return;
    const goodbye = rec.goodbyeReason && rec.goodbyeAt !== null && rec.goodbyeAt !== undefined ? rec.goodbyeReason : null;
    if (goodbye) {
      const said = this.goodbyeDetail.get(clientId);
      this.goodbyeDetail.delete(clientId);
      reason = 'CLEAN_CLOSE';
      detail = `goodbye ${goodbye}: ${GOODBYE_TEXT[goodbye]}${said ? ` (${said})` : ''}`;
    }
    this.deps.registry.patch(clientId, { connectedAt: null, lastDisconnectAt: now, lastDisconnectReason: reason, lastDisconnectDetail: detail });
    // A broker shutdown disconnects everyone at once; the registry keeps the reason, the event log is spared the flood.
    if (reason !== 'BROKER_SHUTDOWN') this.deps.events.record('ENDPOINT_DISCONNECTED', clientId, 'endpoint control channel closed', { reason, detail, goodbye });
    const host = rec.hostname || clientId;
    if (goodbye === 'MACHINE_SHUTDOWN') {
      this.deps.registry.patch(clientId, { status: 'STOPPED', statusSince: now });
      this.deps.events.record('ENDPOINT_STOPPED', clientId, `endpoint ${host} stopped: its machine is shutting down`, { previousStatus: rec.status, detail });
      this.deps.log.info({ clientId }, 'endpoint stopped (machine shutdown)');
    } else if (goodbye === 'TOOLS_REMOVED') {
      this.deps.registry.patch(clientId, { status: 'REMOVED', statusSince: now });
      this.deps.events.record('ENDPOINT_REMOVED', clientId, `endpoint ${host} removed its Direct Connect tools`, { previousStatus: rec.status, detail });
      this.deps.log.info({ clientId }, 'endpoint removed its tools');
    } else return;
    if (this.alerted.delete(clientId)) this.deps.events.clearAlert(clientId, 'ENDPOINT_OFFLINE', `endpoint ${host} (${clientId}) is ${goodbye === 'TOOLS_REMOVED' ? 'removed' : 'stopped'}, not offline`);
  }

  /** Forgets the open-alert memory (uninstall, after the alerts were deleted). */
  forgetAll(): void {
    this.alerted.clear();
    this.goodbyeDetail.clear();
  }

  /** Marks endpoints Offline past the threshold and raises alerts past the alert threshold. */
  sweep(): SweepResult {
    const { registry, events, clock } = this.deps;
    const policy = this.deps.policy();
    const now = clock.now();
    const intervalMs = policy.intervalSeconds * 1000;
    const wentOffline: string[] = [];
    const alerted: string[] = [];
    registry.flush();
    for (const e of registry.list()) {
      // Stopped and removed endpoints left on purpose: neither Offline nor an alert.
      if (e.status === 'NEVER_CONNECTED' || e.status === 'STOPPED' || e.status === 'REMOVED' || e.lastHeartbeatAt === null) continue;
      const missed = Math.floor((now - e.lastHeartbeatAt) / intervalMs);
      if (e.status === 'ONLINE' && missed >= policy.missedHeartbeatsBeforeOffline) {
        registry.patch(e.clientId, { status: 'OFFLINE', statusSince: now });
        events.record('ENDPOINT_OFFLINE', e.clientId, 'endpoint went offline', {
          missedHeartbeats: missed,
          lastHeartbeatAt: e.lastHeartbeatAt,
          lastDisconnectReason: e.lastDisconnectReason,
        });
        this.deps.log.info({ clientId: e.clientId, missed }, 'endpoint went offline');
        wentOffline.push(e.clientId);
      }
      const limit = policy.missedHeartbeatsBeforeAlert;
      if (limit !== null && missed >= limit && !this.alerted.has(e.clientId)) {
        const host = e.hostname || e.clientId;
        events.raiseAlert(e.clientId, 'ENDPOINT_OFFLINE', `endpoint ${host} (${e.clientId}) is offline: ${missed} heartbeats missed`);
        this.alerted.add(e.clientId);
        alerted.push(e.clientId);
      }
    }
    return { wentOffline, alerted };
  }

  private cameOnline(rec: EndpointRecord, message: string): EndpointRecord {
    const now = this.deps.clock.now();
    const next = this.deps.registry.patch(rec.clientId, { status: 'ONLINE', statusSince: now });
    this.deps.events.record('ENDPOINT_ONLINE', rec.clientId, message, { previousStatus: rec.status });
    if (this.alerted.delete(rec.clientId)) {
      this.deps.events.clearAlert(rec.clientId, 'ENDPOINT_OFFLINE', `endpoint ${rec.hostname || rec.clientId} (${rec.clientId}) is back online`);
    }
    return next;
  }
}

/** Runs presence.sweep() on a timer; the interval is short against the heartbeat interval. */
export function startSweeper(presence: Presence, opts: { everyMs: number; log: Logger }): { stop(): void } {
  const timer = setInterval(() => {
    try {
      presence.sweep();
    } catch (err) {
      opts.log.error({ err }, 'heartbeat sweep failed');
    }
  }, opts.everyMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
