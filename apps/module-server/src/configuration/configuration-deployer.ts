// Configure Extension (SPEC 1.4.4, 1.7.3; DESIGN flow 2): the newest content build goes to every
// endpoint in the action group whose reported content revision is older — at its hello, and to
// every connected endpoint when a new build appears (spread over a window, not all at once) — and
// each action's status is followed into the registry ("Configure Extension" deployment) and events.
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Clock } from '../clock';
import { type common, gateway } from '../contracts';
import type { EventLog } from '../events/event-log';
import type { ControlChannelHub, LiveChannel } from '../gateway/control-channels';
import type { EndpointRecord, EndpointRegistry } from '../registry/endpoint-registry';
import { type ActionStatus, canMove } from '../sessions/action-status';
import { actionStatusName } from '../sessions/session-broker';
import { type ContentRelease, type SettingsSource, withoutEnrolmentToken } from '../settings-link/settings-source';

export interface ConfigurationDeployerDeps {
  readonly registry: EndpointRegistry;
  readonly hub: ControlChannelHub;
  readonly events: EventLog;
  readonly settings: SettingsSource;
  readonly clock: Clock;
  readonly log: Logger;
  /** A new build reaches every connected endpoint within about this long. Default 10 s. */
  readonly spreadMs?: number;
  /** The endpoint must start the action within this long, or it reports it expired. Default 10 min. */
  readonly actionTtlMs?: number;
  /** True while an uninstall runs (SPEC 1.7.4): endpoints are losing their tools, so no new content goes out. */
  readonly uninstalling?: () => boolean;
}

/** Actions sent per rollout tick are spaced this far apart. */
const TICK_MS = 50;

/** The Configure Extension action on its way to one endpoint over one control channel. */
interface InFlight {
  readonly actionId: string;
  readonly revision: number;
  readonly channel: LiveChannel | undefined;
}

export class ConfigurationDeployer {
  private readonly inFlight = new Map<string, InFlight>();
  /** Endpoints waiting for their turn in the current rollout, in order. */
  private readonly queue = new Set<string>();
  private perTick = 1;
  private timer?: NodeJS.Timeout;
  private readonly unsubscribe: () => void;
  private closed = false;

  constructor(private readonly deps: ConfigurationDeployerDeps) {
    this.unsubscribe = deps.settings.onContent((content) => this.rollOut(content));
  }

  /** The newest content revision for an OS ('linux', 'macos', 'windows'); 0 when there is none (HelloAck). */
  latestRevision(os: string): number {
    return this.deps.settings.latestContent()?.configurations.get(os)?.revision ?? 0;
  }

  /**
   * The endpoint said hello with the content revision it runs: remember it, settle an action the
   * revision shows applied, and send the newest build if the endpoint is behind.
   */
  onHello(clientId: string, reportedRevision: number): Promise<void> {
    const { registry, clock } = this.deps;
    const before = registry.require(clientId);
    registry.patch(clientId, { configurationRevision: reportedRevision });
    // Applied though its answer never arrived (e.g. the channel dropped right after): the hello says so.
    const unanswered = before.configureStatus === 'ERROR' || (before.configureStatus && !isSettled(before.configureStatus));
    const sentRevision = before.configureRevision ?? null;
    if (unanswered && sentRevision !== null && reportedRevision >= sentRevision) {
      registry.patch(clientId, { configureStatus: 'SUCCEEDED', configureDetail: `the endpoint reports content revision ${reportedRevision} applied`, configureUpdatedAt: clock.now() });
      this.inFlight.delete(clientId);
      this.deps.events.record('CONFIGURATION_DEPLOYED', clientId, `content revision ${sentRevision} applied on ${describe(before)}`, { actionId: before.configureActionId ?? '', revision: sentRevision, status: 'SUCCEEDED' });
    }
    return this.offer(clientId);
  }

  /** An ActionStatusUpdate from the endpoint; true when it was for a Configure Extension action. */
  onActionStatus(clientId: string, update: gateway.ActionStatusUpdate): boolean {
    const { registry, events, clock, log } = this.deps;
    const e = registry.get(clientId);
    if (!e?.configureActionId || e.configureActionId !== update.actionId) return false;
    const to = actionStatusName(update.status);
    const from = e.configureStatus ?? 'CREATING';
    if (!to || !canMove(from, to) || from === to) return true;
    const detail = update.detail || (update.failureReason ? gateway.actionFailureReasonToJSON(update.failureReason) : '');
    const revision = e.configureRevision ?? 0;
    registry.patch(clientId, { configureStatus: to, configureDetail: detail, configureUpdatedAt: clock.now(), ...(to === 'SUCCEEDED' ? { configurationRevision: Math.max(revision, e.configurationRevision ?? 0) } : {}) });
    if (to === 'SUCCEEDED') {
      this.inFlight.delete(clientId);
      events.record('CONFIGURATION_DEPLOYED', clientId, `content revision ${revision} applied on ${describe(e)}`, { actionId: update.actionId, revision, status: to });
    } else if (to === 'NOT_SUCCEEDED' || to === 'ERROR') {
      this.inFlight.delete(clientId);
      log.warn({ clientId, actionId: update.actionId, revision, status: to, detail }, 'Configure Extension did not succeed');
      events.record('CONFIGURATION_FAILED', clientId, `Configure Extension (content revision ${revision}) on ${describe(e)}: ${to}${detail ? `: ${detail}` : ''}`, {
        actionId: update.actionId, revision, status: to, detail,
      });
    }
    return true;
  }

  /** The endpoint's control channel closed: an action still waiting for its result on it failed. */
  onControlChannelClosed(clientId: string): void {
    const f = this.inFlight.get(clientId);
    if (!f) return;
    this.inFlight.delete(clientId);
    this.fail(clientId, f.actionId, 'ERROR', 'the endpoint disconnected before reporting the result; it is sent again at its next hello');
  }

  /** Stops rollouts and following settings. */
  close(): void {
    this.closed = true;
    this.unsubscribe();
    clearTimeout(this.timer);
    this.queue.clear();
  }

  /** A newer build: queue every connected endpoint that is behind, drained a few per tick over spreadMs. */
  private rollOut(content: ContentRelease): void {
    if (this.closed) return;
    for (const id of this.deps.hub.connectedIds()) {
      const e = this.deps.registry.get(id);
      const c = e && content.configurations.get(e.os);
      if (c && (e.configurationRevision ?? 0) < c.revision) this.queue.add(id);
    }
    const ticks = Math.max(1, Math.floor((this.deps.spreadMs ?? 10_000) / TICK_MS));
    this.perTick = Math.max(1, Math.ceil(this.queue.size / ticks));
    this.deps.log.info({ buildId: content.buildId, revision: content.revision, endpoints: this.queue.size }, 'delivering a new content build to connected endpoints');
    if (!this.timer) this.drain();
  }

  private drain(): void {
    this.timer = undefined;
    if (this.closed) return;
    let n = 0;
    for (const id of this.queue) {
      if (n++ >= this.perTick) break;
      this.queue.delete(id);
      void this.offer(id);
    }
    if (this.queue.size > 0) {
      this.timer = setTimeout(() => this.drain(), TICK_MS);
      this.timer.unref();
    }
  }

  /** Sends the newest build to the endpoint if it is behind, in the action group and its action lock allows it. */
  private async offer(clientId: string): Promise<void> {
    const { registry, settings, hub, clock, log } = this.deps;
    if (this.deps.uninstalling?.()) return;
    const channel = hub.get(clientId);
    const due = () => this.due(clientId, channel);
    const first = due();
    if (!first) return;
    // SPEC 1.4.2: endpoints outside the action group get no packages.
    let membership;
    try {
      membership = settings.refreshMembership ? await settings.refreshMembership(first.endpoint) : settings.actionGroupMembership(first.endpoint);
    } catch (err) {
      log.warn({ clientId, err: (err as Error).message }, 'cannot evaluate action group membership; Configure Extension waits for the next hello');
      return;
    }
    // Things may have moved while membership was asked: a newer build, another offer, a new channel.
    const current = due();
    if (!membership.member || this.closed || !current) return;
    const { endpoint: e, configuration } = current;
    // SPEC 1.4.4: with action lock on, only "allow new connections and configuration changes" lets it through.
    const lockMode = settings.actionLockMode();
    const locked = e.actionLock && lockMode !== 'ALLOW_NEW_CONNECTIONS_AND_CONFIGURATION';
    if (locked && e.configureRevision === configuration.revision && e.configureStatus === 'NOT_SUCCEEDED') return; // refused already; no event per reconnect
    const now = clock.now();
    const actionId = randomUUID();
    registry.patch(clientId, { configureActionId: actionId, configureRevision: configuration.revision, configureStatus: 'CREATING', configureDetail: '', configureUpdatedAt: now });
    if (locked) {
      this.fail(clientId, actionId, 'NOT_SUCCEEDED', `action lock is on and the action lock mode ${lockMode} refuses configuration changes (SPEC 1.4.4)`);
      return;
    }
    try {
      hub.sendAction(clientId, {
        actionId,
        issuedTime: new Date(now),
        expireTime: new Date(now + (this.deps.actionTtlMs ?? 600_000)),
        kind: { $case: 'configureExtension', value: { configuration: withoutEnrolmentToken(configuration) } },
      });
    } catch (err) {
      this.fail(clientId, actionId, 'ERROR', `the Configure Extension action could not be delivered: ${(err as Error).message}`);
      return;
    }
    this.inFlight.set(clientId, { actionId, revision: configuration.revision, channel });
    registry.patch(clientId, { configureStatus: 'DOWNLOADING', configureDetail: 'Configure Extension action delivered to the endpoint', configureUpdatedAt: clock.now() });
    log.debug({ clientId, actionId, revision: configuration.revision }, 'Configure Extension sent');
  }

  /** The endpoint and the configuration to send it, when it is behind on this channel and nothing is on its way. */
  private due(clientId: string, channel: LiveChannel | undefined): { endpoint: EndpointRecord; configuration: common.EndpointConfiguration } | undefined {
    const endpoint = this.deps.registry.get(clientId);
    const configuration = endpoint && this.deps.settings.latestContent()?.configurations.get(endpoint.os);
    if (!endpoint || !configuration || !channel || this.deps.hub.get(clientId) !== channel) return undefined;
    if ((endpoint.configurationRevision ?? 0) >= configuration.revision) return undefined;
    const sent = this.inFlight.get(clientId);
    if (sent && sent.channel === channel && sent.revision >= configuration.revision) return undefined; // on its way
    return { endpoint, configuration };
  }

  private fail(clientId: string, actionId: string, to: 'ERROR' | 'NOT_SUCCEEDED', detail: string): void {
    const { registry, events, clock } = this.deps;
    const e = registry.get(clientId);
    if (!e || e.configureActionId !== actionId || !canMove(e.configureStatus ?? 'CREATING', to)) return;
    registry.patch(clientId, { configureStatus: to, configureDetail: detail, configureUpdatedAt: clock.now() });
    const revision = e.configureRevision ?? 0;
    events.record('CONFIGURATION_FAILED', clientId, `Configure Extension (content revision ${revision}) on ${describe(e)}: ${to}: ${detail}`, { actionId, revision, status: to, detail });
  }
}

/** The action has its result: it did what it should, or failed, or is over. */
function isSettled(s: ActionStatus): boolean {
  return s !== 'CREATING' && s !== 'DOWNLOADING' && s !== 'RUNNING';
}

function describe(e: EndpointRecord): string {
  return e.hostname ? `${e.hostname} (${e.clientId})` : e.clientId;
}
