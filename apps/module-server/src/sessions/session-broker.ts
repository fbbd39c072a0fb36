// Sessions (SPEC 1.5, DESIGN flow 4): a module opens a session to one endpoint, the broker sends
// the Open Session action and follows its status, the endpoint attaches a session stream, and
// requests and their response chunks flow through it until it is closed or goes idle.
import { randomUUID } from 'node:crypto';
import { DeadlineExceeded, FailedPrecondition, InvalidArgument, NotFound, PermissionDenied, Unavailable } from '@dc/service-kit';
import type { Logger } from 'pino';
import type { Clock } from '../clock';
import { common, gateway, type session as sessionPb } from '../contracts';
import type { EventLog } from '../events/event-log';
import type { ControlChannelHub } from '../gateway/control-channels';
import type { EndpointRecord, EndpointRegistry } from '../registry/endpoint-registry';
import type { SettingsSource } from '../settings-link/settings-source';
import { ACTION_STATUSES, type ActionStatus, canMove, isFinal } from './action-status';
import { AsyncQueue } from './async-queue';
import { DEFAULT_IDLE_TIMEOUT_MS, type SessionRecord, type SessionStore } from './session-store';

/** How long the endpoint has to attach after the Open Session action is sent. */
export const ATTACH_TIMEOUT_MS = 60_000;
export const DEFAULT_REQUEST_TIMEOUT_MS = 60_000;
const MAX_CONCURRENT_REQUESTS = 8;

export interface SessionStreamHandle {
  send(message: gateway.SessionStreamResponse): void;
  end(): void;
}

interface LiveSession {
  readonly sessionId: string;
  readonly clientId: string;
  readonly actionId: string;
  readonly module: string;
  readonly idleTimeoutMs: number;
  readonly openedAt: number;
  stream?: SessionStreamHandle;
  lastActivity: number;
  readonly requests: Map<string, AsyncQueue<sessionPb.SessionResponse>>;
  readonly waiters: Set<() => void>;
}

export interface SessionBrokerDeps {
  readonly store: SessionStore;
  readonly registry: EndpointRegistry;
  readonly hub: ControlChannelHub;
  readonly events: EventLog;
  readonly settings: SettingsSource;
  readonly clock: Clock;
  readonly log: Logger;
}

export class SessionBroker {
  private readonly live = new Map<string, LiveSession>();
  private readonly byActionId = new Map<string, string>();

  constructor(private readonly deps: SessionBrokerDeps) {
    // Streams do not survive a broker restart: close what the last run left open.
    for (const s of deps.store.active()) deps.store.move(s.sessionId, 'CLOSED', 'broker restarted');
  }

  /** Opens a session to one endpoint by client id, IP or computer name (SPEC 1.5). */
  async open(req: { target: string; module: string; requestedBy: string; idleTimeoutMs?: number }): Promise<SessionRecord> {
    const { registry, settings, store, hub, events } = this.deps;
    if (!/^[a-z][a-z0-9-]{0,62}$/.test(req.module)) throw new InvalidArgument('module_name', 'must be lowercase letters, digits and hyphens, starting with a letter (1–63 chars)', req.module);
    const idle = req.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
    if (idle < 10_000 || idle > 86_400_000) throw new InvalidArgument('idle_timeout', 'must be from 10 s to 24 h', `${idle} ms`);
    const endpoint = registry.find(req.target);
    if (!endpoint || endpoint.enrolment !== 'ENROLLED') throw new NotFound(`no enrolled endpoint has client id, IP or computer name "${req.target}"`);
    const membership = settings.refreshMembership ? await settings.refreshMembership(endpoint) : settings.actionGroupMembership(endpoint);
    if (!membership.member) {
      throw new FailedPrecondition(`endpoint ${describe(endpoint)} is not in the action group, so it gets no sessions (SPEC 1.4.2): ${membership.why}`);
    }
    if (endpoint.actionLock && settings.actionLockMode() === 'BLOCK_ALL') {
      throw new FailedPrecondition(`endpoint ${describe(endpoint)} has action lock on, and the action lock mode "block all Direct Connect actions" refuses new sessions (SPEC 1.4.4)`);
    }
    const record = store.create(endpoint.clientId, req.module, req.requestedBy, idle);
    const now = this.deps.clock.now();
    const live: LiveSession = {
      sessionId: record.sessionId, clientId: endpoint.clientId, actionId: record.actionId, module: req.module, idleTimeoutMs: idle,
      openedAt: now, lastActivity: now, requests: new Map(), waiters: new Set(),
    };
    this.live.set(record.sessionId, live);
    this.byActionId.set(record.actionId, record.sessionId);
    events.record('SESSION_OPENED', endpoint.clientId, 'session requested', { sessionId: record.sessionId, module: req.module, requestedBy: req.requestedBy });
    try {
      hub.sendAction(endpoint.clientId, {
        actionId: record.actionId,
        issuedTime: new Date(now),
        expireTime: new Date(now + ATTACH_TIMEOUT_MS),
        kind: { $case: 'openSession', value: { sessionId: record.sessionId, moduleName: req.module, idleTimeout: { seconds: Math.floor(idle / 1000), nanos: 0 } } },
      });
    } catch (err) {
      return this.finish(live, 'ERROR', `the Open Session action could not be delivered: ${(err as Error).message}`);
    }
    return store.move(record.sessionId, 'DOWNLOADING', 'Open Session action delivered to the endpoint');
  }

  /** Resolves once the session is open or has ended, or after timeoutMs with its current state. */
  async waitUntilOpen(sessionId: string, timeoutMs: number): Promise<SessionRecord> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const s = this.deps.store.require(sessionId);
      const live = this.live.get(sessionId);
      const left = deadline - performance.now();
      if (s.sessionStatus !== 'PENDING' || !live || left <= 0) return s;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, left);
        function done() {
          clearTimeout(timer);
          live!.waiters.delete(done);
          resolve();
        }
        live.waiters.add(done);
      });
    }
  }

  /** An ActionStatusUpdate for an Open Session action, from the endpoint's control channel. */
  onActionStatus(clientId: string, update: gateway.ActionStatusUpdate): void {
    const sessionId = this.byActionId.get(update.actionId);
    const live = sessionId ? this.live.get(sessionId) : undefined;
    if (!live || live.clientId !== clientId) return; // not ours (other action kinds) or stale
    const to = actionStatusName(update.status);
    if (!to) return;
    const current = this.deps.store.require(live.sessionId);
    if (!canMove(current.actionStatus, to)) {
      this.deps.log.debug({ sessionId: live.sessionId, from: current.actionStatus, to }, 'ignoring an out-of-order action status');
      return;
    }
    const detail = update.detail || (update.failureReason ? gateway.actionFailureReasonToJSON(update.failureReason) : '');
    if (to === 'NOT_SUCCEEDED' || to === 'ERROR' || to === 'COMPLETE' || to === 'CLOSED') this.finish(live, to, detail || `endpoint reported ${to}`);
    else {
      this.deps.store.move(live.sessionId, to, detail);
      this.notify(live);
    }
  }

  /** The endpoint attached its session stream. */
  attach(clientId: string, attach: gateway.SessionAttach, stream: SessionStreamHandle): gateway.SessionAttached {
    const live = this.live.get(attach.sessionId);
    if (!live) throw new NotFound(`session "${attach.sessionId}" is not open on this broker`);
    if (live.clientId !== clientId) throw new PermissionDenied(`session ${attach.sessionId} was opened for another endpoint, not ${clientId}`);
    if (live.stream) throw new FailedPrecondition(`session ${attach.sessionId} already has a stream attached`);
    live.stream = stream;
    live.lastActivity = this.deps.clock.now();
    this.deps.store.move(live.sessionId, 'SUCCEEDED', 'session stream attached', { attached: true });
    this.deps.store.touch(live.sessionId);
    this.notify(live);
    return {
      sessionId: live.sessionId,
      moduleName: live.module,
      idleTimeout: { seconds: Math.floor(live.idleTimeoutMs / 1000), nanos: 0 },
      maxConcurrentRequests: MAX_CONCURRENT_REQUESTS,
    };
  }

  /**
   * Sends one request over the session and yields its response chunks as they arrive (large
   * results stream). An error chunk is yielded like any other; it is always the last.
   */
  async *request(sessionId: string, payload: sessionPb.SessionRequest['payload'], timeoutMs = DEFAULT_REQUEST_TIMEOUT_MS): AsyncGenerator<sessionPb.SessionResponse> {
    const live = this.live.get(sessionId);
    const record = this.deps.store.get(sessionId);
    if (!record) throw new NotFound(`session "${sessionId}" does not exist`);
    if (!live || !live.stream || record.sessionStatus !== 'OPEN') {
      throw new FailedPrecondition(`session ${sessionId} is not open (session status ${record.sessionStatus}, action status ${record.actionStatus}${record.statusDetail ? `: ${record.statusDetail}` : ''})`);
    }
    if (!payload) throw new InvalidArgument('request.payload', 'is required');
    const requestId = randomUUID();
    const queue = new AsyncQueue<sessionPb.SessionResponse>();
    live.requests.set(requestId, queue);
    live.lastActivity = this.deps.clock.now();
    const timer = setTimeout(() => {
      live.stream?.send({ message: { $case: 'cancel', value: { requestId } } });
      queue.fail(new DeadlineExceeded(`endpoint ${live.clientId} did not finish the request within ${timeoutMs} ms`));
    }, timeoutMs);
    try {
      live.stream.send({ message: { $case: 'request', value: { requestId, timeout: { seconds: Math.ceil(timeoutMs / 1000), nanos: 0 }, payload } } });
      for await (const chunk of queue) {
        yield chunk;
        if (chunk.last) break;
      }
    } finally {
      clearTimeout(timer);
      live.requests.delete(requestId);
    }
  }

  /** A response chunk from the endpoint's session stream. */
  onResponse(sessionId: string, response: sessionPb.SessionResponse): void {
    const live = this.live.get(sessionId);
    if (!live) return;
    live.lastActivity = this.deps.clock.now();
    this.deps.store.touch(sessionId, response.last ? 1 : 0);
    const q = live.requests.get(response.requestId);
    if (!q) return;
    q.push(response);
    if (response.last) q.end();
  }

  /** The endpoint's session stream ended (cleanly or not). */
  onStreamEnded(sessionId: string, error?: string): void {
    const live = this.live.get(sessionId);
    if (!live) return;
    live.stream = undefined;
    this.finish(live, error ? 'ERROR' : 'COMPLETE', error ? `session stream broke: ${error}` : 'the endpoint ended the session');
  }

  /** Closes a session on request; idempotent (SPEC 1.5 Closed). */
  close(sessionId: string, reason: string): SessionRecord {
    const record = this.deps.store.require(sessionId);
    const live = this.live.get(sessionId);
    if (!live || isFinal(record.actionStatus)) return record;
    if (!live.stream) {
      try {
        this.deps.hub.sendAction(live.clientId, { actionId: randomUUID(), issuedTime: new Date(this.deps.clock.now()), kind: { $case: 'cancel', value: { actionId: live.actionId } } });
      } catch {
        // the endpoint is gone; nothing to cancel there
      }
    }
    return this.finish(live, 'CLOSED', reason);
  }

  /** The endpoint's control channel closed: sessions still waiting for it to attach cannot open. */
  onControlChannelClosed(clientId: string): void {
    for (const live of this.live.values()) {
      if (live.clientId === clientId && !live.stream) this.finish(live, 'ERROR', 'the endpoint disconnected before attaching the session');
    }
  }

  /** Closes idle sessions and fails those the endpoint never attached (run on a timer). */
  sweep(): { idle: string[]; notAttached: string[] } {
    const now = this.deps.clock.now();
    const idle: string[] = [];
    const notAttached: string[] = [];
    for (const live of [...this.live.values()]) {
      if (live.stream && live.requests.size === 0 && now - live.lastActivity >= live.idleTimeoutMs) {
        this.finish(live, 'COMPLETE', `idle timeout (${Math.round(live.idleTimeoutMs / 1000)} s without a request)`);
        idle.push(live.sessionId);
      } else if (!live.stream && now - live.openedAt >= ATTACH_TIMEOUT_MS) {
        this.finish(live, 'ERROR', `the endpoint did not attach the session within ${ATTACH_TIMEOUT_MS / 1000} s`);
        notAttached.push(live.sessionId);
      }
    }
    return { idle, notAttached };
  }

  openSessionsOf(clientId: string): number {
    let n = 0;
    for (const l of this.live.values()) if (l.clientId === clientId && l.stream) n++;
    return n;
  }

  requestsInFlight(sessionId: string): number {
    return this.live.get(sessionId)?.requests.size ?? 0;
  }

  /** Ends every live session (broker shutdown). */
  closeAll(reason: string): void {
    for (const live of [...this.live.values()]) this.finish(live, 'CLOSED', reason);
  }

  private finish(live: LiveSession, to: ActionStatus, detail: string): SessionRecord {
    const current = this.deps.store.require(live.sessionId);
    // A session whose action succeeded ends as COMPLETE/CLOSED; one that never opened keeps its failure.
    const target = canMove(current.actionStatus, to) ? to : 'CLOSED';
    const record = canMove(current.actionStatus, target) ? this.deps.store.move(live.sessionId, target, detail) : current;
    this.live.delete(live.sessionId);
    this.byActionId.delete(live.actionId);
    for (const q of live.requests.values()) q.fail(new Unavailable(`session ${live.sessionId} ended: ${detail}`));
    live.requests.clear();
    const stream = live.stream;
    live.stream = undefined;
    stream?.end();
    this.notify(live);
    this.deps.events.record('SESSION_CLOSED', live.clientId, 'session ended', { sessionId: live.sessionId, actionStatus: record.actionStatus, detail });
    return record;
  }

  private notify(live: LiveSession): void {
    for (const w of [...live.waiters]) w();
  }
}

function describe(e: EndpointRecord): string {
  return e.hostname ? `${e.hostname} (${e.clientId})` : e.clientId;
}

/** The contract's ActionStatus as the SPEC 1.5 name, and back. */
export function actionStatusName(status: common.ActionStatus): ActionStatus | undefined {
  const name = common.actionStatusToJSON(status).replace(/^ACTION_STATUS_/, '');
  return (ACTION_STATUSES as readonly string[]).includes(name) ? (name as ActionStatus) : undefined;
}

export function actionStatusValue(status: ActionStatus): common.ActionStatus {
  return common.actionStatusFromJSON(`ACTION_STATUS_${status}`);
}
