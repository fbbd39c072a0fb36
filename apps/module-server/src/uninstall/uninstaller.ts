// Uninstall (SPEC 1.7.4): first a Remove Tools action to every endpoint that reported the package
// installed (progress per OS), then the service's data on the module server. The state lives in
// broker.db (tables uninstall, uninstall_targets) so a broker restart carries on where it was.
import { randomUUID } from 'node:crypto';
import { FailedPrecondition, InvalidArgument } from '@dc/service-kit';
import type { Logger } from 'pino';
import type { Clock } from '../clock';
import { common, gateway, moduleserver as ms } from '../contracts';
import type { EventLog } from '../events/event-log';
import type { ControlChannelHub } from '../gateway/control-channels';
import type { Presence } from '../heartbeats/presence';
import type { BrokerDb } from '../registry/broker-db';
import type { EndpointRecord, EndpointRegistry } from '../registry/endpoint-registry';
import type { SessionBroker } from '../sessions/session-broker';

/** The phrase an operator types to confirm (SPEC 1.7.4: other modules depend on Direct Connect). */
export const CONFIRMATION = 'UNINSTALL DIRECT CONNECT';
export const DEFAULT_ENDPOINT_TIMEOUT_MS = 24 * 3_600_000;
/** Modules that opened a session within this window are named in the warnings. */
export const DEPENDENT_WINDOW_MS = 30 * 86_400_000;

export type UninstallPhase = 'NONE' | 'PLANNED' | 'REMOVING_FROM_ENDPOINTS' | 'REMOVING_SERVER_DATA' | 'DONE' | 'FAILED';
/** PENDING: not sent yet (offline); SENT: out, no final answer yet. */
export type TargetOutcome = 'PENDING' | 'SENT' | 'SUCCEEDED' | 'FAILED';

export interface OsProgress {
  /** As the registry keeps it: "linux", "windows", "macos", or "" when never reported. */
  readonly os: string;
  readonly targeted: number;
  readonly succeeded: number;
  readonly failed: number;
  readonly pending: number;
}

export interface UninstallView {
  readonly phase: UninstallPhase;
  readonly endpoints: readonly OsProgress[];
  readonly warnings: readonly string[];
  readonly startedAt: number | null;
  readonly finishedAt: number | null;
  readonly detail: string;
}

export interface UninstallRequest {
  readonly confirmation: string;
  readonly dryRun: boolean;
  readonly endpointTimeoutMs?: number;
  readonly removeRecorderData: boolean;
  /** Principal name, for the event. */
  readonly by: string;
}

export interface UninstallerDeps {
  readonly db: BrokerDb;
  readonly registry: EndpointRegistry;
  readonly events: EventLog;
  readonly hub: ControlChannelHub;
  readonly sessions: SessionBroker;
  readonly presence: Presence;
  readonly clock: Clock;
  readonly log: Logger;
}

interface StateRow {
  phase: string;
  started_at: number;
  finished_at: number | null;
  endpoint_timeout_ms: number;
  remove_recorder_data: number;
  started_by: string;
  warnings: string;
  detail: string;
}
interface TargetRow {
  client_id: string;
  os: string;
  action_id: string | null;
  outcome: TargetOutcome;
  detail: string;
}

const ACTIVE: readonly UninstallPhase[] = ['REMOVING_FROM_ENDPOINTS', 'REMOVING_SERVER_DATA'];

export class Uninstaller {
  private readonly stmts;
  /** Set while the server data is being removed, so nothing re-enters the removal. */
  private removing = false;
  /** The phase as last read or written: every hello asks for it, and only this class changes it. */
  private knownPhase?: UninstallPhase;

  constructor(private readonly deps: UninstallerDeps) {
    const { db } = deps;
    this.stmts = {
      state: db.prepare('SELECT * FROM uninstall WHERE id = 1'),
      targets: db.prepare('SELECT client_id, os, action_id, outcome, detail FROM uninstall_targets ORDER BY client_id'),
      target: db.prepare('SELECT client_id, os, action_id, outcome, detail FROM uninstall_targets WHERE client_id = ?'),
      insertState: db.prepare(
        "INSERT INTO uninstall (id, phase, started_at, endpoint_timeout_ms, remove_recorder_data, started_by, warnings, detail) VALUES (1, 'REMOVING_FROM_ENDPOINTS', ?, ?, ?, ?, ?, '')",
      ),
      insertTarget: db.prepare("INSERT INTO uninstall_targets (client_id, os, outcome, updated_at) VALUES (?, ?, 'PENDING', ?)"),
      setTarget: db.prepare('UPDATE uninstall_targets SET action_id = COALESCE(?, action_id), outcome = ?, detail = ?, updated_at = ? WHERE client_id = ?'),
      setPhase: db.prepare('UPDATE uninstall SET phase = ?, finished_at = ?, detail = ? WHERE id = 1'),
      dependents: db.prepare('SELECT module, COUNT(*) AS n FROM sessions WHERE created_at >= ? GROUP BY module ORDER BY module'),
    };
    deps.events.subscribe((ev) => {
      if ((ev.kind !== 'ENDPOINT_REMOVED' && ev.kind !== 'ENDPOINT_DISCONNECTED') || !ev.clientId || this.removing) return;
      if (this.phase() !== 'REMOVING_FROM_ENDPOINTS') return;
      const t = this.stmts.target.get(ev.clientId) as TargetRow | undefined;
      if (!t) return;
      // An endpoint that says goodbye with TOOLS_REMOVED has done its part, even if its last status was lost.
      if (ev.kind === 'ENDPOINT_REMOVED' && (t.outcome === 'PENDING' || t.outcome === 'SENT')) {
        this.stmts.setTarget.run(null, 'SUCCEEDED', 'the endpoint said goodbye: tools removed', deps.clock.now(), ev.clientId);
      }
      // Not from inside the event's own call: the presence update that recorded it is still running.
      setImmediate(() => this.safeTick());
    });
  }

  /** The endpoints that reported the package installed: enrolled, said hello at least once, tools not removed. */
  private targets(): EndpointRecord[] {
    return this.deps.registry.list().filter((e) => e.enrolment === 'ENROLLED' && e.firstConnectedAt !== null && e.status !== 'REMOVED');
  }

  private dependentWarnings(): string[] {
    const rows = this.stmts.dependents.all(this.deps.clock.now() - DEPENDENT_WINDOW_MS) as Array<{ module: string; n: number }>;
    if (rows.length === 0) return [];
    const names = rows.map((r) => r.module).join(', ');
    return [`modules ${names} opened sessions in the last 30 days and depend on Direct Connect; they lose their endpoint sessions`];
  }

  private phase(): UninstallPhase {
    this.knownPhase ??= ((this.stmts.state.get() as StateRow | undefined)?.phase as UninstallPhase | undefined) ?? 'NONE';
    return this.knownPhase;
  }

  /** An uninstall is under way (Remove Tools out, or server data being removed). */
  get running(): boolean {
    return ACTIVE.includes(this.phase());
  }

  private setPhase(phase: UninstallPhase, finishedAt: number | null, detail: string): void {
    this.stmts.setPhase.run(phase, finishedAt, detail);
    this.knownPhase = phase;
  }

  /** Uninstall / dry run (the AdminService Uninstall call). */
  request(req: UninstallRequest): UninstallView {
    if (req.dryRun) return this.plan();
    if (req.confirmation !== CONFIRMATION) {
      throw new FailedPrecondition(`confirmation: must be exactly "${CONFIRMATION}" (other modules depend on Direct Connect, SPEC 1.7.4), got "${req.confirmation}"; nothing was changed`);
    }
    const timeoutMs = req.endpointTimeoutMs ?? DEFAULT_ENDPOINT_TIMEOUT_MS;
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new InvalidArgument('endpoint_timeout', 'must be more than 0', `${timeoutMs} ms`);
    return this.start({ endpointTimeoutMs: timeoutMs, removeRecorderData: req.removeRecorderData, by: req.by });
  }

  /** What an uninstall would do now; changes nothing. */
  plan(): UninstallView {
    const byOs = new Map<string, number>();
    for (const e of this.targets()) byOs.set(e.os, (byOs.get(e.os) ?? 0) + 1);
    const endpoints = [...byOs.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([os, n]) => ({ os, targeted: n, succeeded: 0, failed: 0, pending: n }));
    return { phase: 'PLANNED', endpoints, warnings: this.dependentWarnings(), startedAt: null, finishedAt: null, detail: 'dry run: nothing was changed' };
  }

  private start(opts: { endpointTimeoutMs: number; removeRecorderData: boolean; by: string }): UninstallView {
    const { db, clock, events } = this.deps;
    const current = this.phase();
    if (ACTIVE.includes(current)) throw new FailedPrecondition(`an uninstall is already running (phase ${current}); follow it with GetUninstallStatus`);
    const now = clock.now();
    const targets = this.targets();
    const warnings = this.dependentWarnings();
    db.transaction(() => {
      db.exec('DELETE FROM uninstall; DELETE FROM uninstall_targets;');
      this.stmts.insertState.run(now, opts.endpointTimeoutMs, opts.removeRecorderData ? 1 : 0, opts.by, JSON.stringify(warnings));
      for (const e of targets) this.stmts.insertTarget.run(e.clientId, e.os, now);
    })();
    this.knownPhase = 'REMOVING_FROM_ENDPOINTS';
    events.record('UNINSTALL_STARTED', null, `uninstall started by ${opts.by || 'an operator'}: Remove Tools to ${targets.length} endpoint(s)`, {
      targets: targets.length, by: opts.by, endpointTimeoutMs: opts.endpointTimeoutMs, removeRecorderData: opts.removeRecorderData, warnings,
    });
    this.deps.log.warn({ targets: targets.length, by: opts.by }, 'uninstall started');
    for (const e of targets) if (this.deps.hub.isConnected(e.clientId)) this.send(e.clientId);
    this.safeTick();
    return this.status();
  }

  /** Sends Remove Tools to a target with a live control channel. */
  private send(clientId: string): void {
    const state = this.stmts.state.get() as StateRow | undefined;
    if (!state) return;
    const now = this.deps.clock.now();
    const actionId = randomUUID();
    try {
      this.deps.hub.sendAction(clientId, {
        actionId, issuedTime: new Date(now), expireTime: new Date(state.started_at + state.endpoint_timeout_ms),
        kind: { $case: 'removeTools', value: { removeRecorderData: state.remove_recorder_data === 1 } },
      });
      this.stmts.setTarget.run(actionId, 'SENT', 'Remove Tools sent', now, clientId);
    } catch (err) {
      this.deps.log.info({ clientId, err: (err as Error).message }, 'could not send Remove Tools; waiting for the endpoint to reconnect');
    }
  }

  /** A control channel opened: a target that has not answered yet gets (again) its Remove Tools. */
  onControlChannelOpen(clientId: string): void {
    if (this.phase() !== 'REMOVING_FROM_ENDPOINTS') return;
    const t = this.stmts.target.get(clientId) as TargetRow | undefined;
    if (t && (t.outcome === 'PENDING' || t.outcome === 'SENT')) this.send(clientId);
  }

  /** An action status from an endpoint; only Remove Tools actions of the running uninstall count. */
  onActionStatus(clientId: string, update: gateway.ActionStatusUpdate): void {
    if (this.phase() !== 'REMOVING_FROM_ENDPOINTS') return;
    const t = this.stmts.target.get(clientId) as TargetRow | undefined;
    if (!t || t.action_id !== update.actionId || (t.outcome !== 'SENT' && t.outcome !== 'PENDING')) return;
    const S = common.ActionStatus;
    let outcome: TargetOutcome | undefined;
    if (update.status === S.ACTION_STATUS_SUCCEEDED || update.status === S.ACTION_STATUS_COMPLETE) outcome = 'SUCCEEDED';
    else if (update.status === S.ACTION_STATUS_NOT_SUCCEEDED || update.status === S.ACTION_STATUS_ERROR) outcome = 'FAILED';
    if (!outcome) return;
    const detail = update.detail || (update.failureReason ? gateway.actionFailureReasonToJSON(update.failureReason) : common.actionStatusToJSON(update.status));
    this.stmts.setTarget.run(null, outcome, detail, this.deps.clock.now(), clientId);
    this.deps.log.info({ clientId, outcome, detail }, 'Remove Tools answered');
    this.safeTick();
  }

  private safeTick(): void {
    if (!this.deps.db.open) return; // a late disconnect while the broker stops
    try {
      this.tick();
    } catch (err) {
      this.deps.log.error({ err }, 'uninstall step failed');
    }
  }

  /** Moves the uninstall on: all answered or the endpoint timeout passed → server data; resumes after a restart. */
  tick(): void {
    if (this.removing) return;
    const state = this.stmts.state.get() as StateRow | undefined;
    if (!state) return;
    if (state.phase === 'REMOVING_FROM_ENDPOINTS') {
      const targets = this.stmts.targets.all() as TargetRow[];
      const open = targets.filter((t) => t.outcome === 'PENDING' || t.outcome === 'SENT');
      // One that succeeded is still saying goodbye while its channel is up: its endpoint record stays until it left.
      const leaving = targets.filter((t) => t.outcome === 'SUCCEEDED' && this.deps.hub.isConnected(t.client_id));
      const timedOut = this.deps.clock.now() >= state.started_at + state.endpoint_timeout_ms;
      if (open.length + leaving.length > 0 && !timedOut) return;
      const detail = open.length > 0 ? `${open.length} endpoint(s) did not answer within ${Math.round(state.endpoint_timeout_ms / 60_000)} min: ${open.map((t) => t.client_id).join(', ')}` : '';
      this.removeServerData(detail);
    } else if (state.phase === 'REMOVING_SERVER_DATA') {
      this.removeServerData(state.detail);
    }
  }

  /** Deletes the endpoint registry, sessions, events and alerts; keeps the uninstall record. */
  private removeServerData(endpointDetail: string): void {
    const { db, clock, events, log } = this.deps;
    this.removing = true;
    try {
      this.setPhase('REMOVING_SERVER_DATA', null, endpointDetail);
      try {
        this.deps.sessions.closeAll('Direct Connect is being uninstalled');
        db.transaction(() => db.exec('DELETE FROM sessions; DELETE FROM alerts; DELETE FROM events; DELETE FROM endpoints;'))();
        this.deps.registry.forgetAll();
        this.deps.presence.forgetAll();
      } catch (err) {
        const detail = `removing the server data failed: ${(err as Error).message}`;
        this.setPhase('FAILED', clock.now(), endpointDetail ? `${endpointDetail}; ${detail}` : detail);
        events.record('UNINSTALL_FAILED', null, detail, {});
        log.error({ err }, 'uninstall failed');
        return;
      }
      const counts = this.progress();
      const detail = endpointDetail || 'every targeted endpoint answered';
      this.setPhase('DONE', clock.now(), detail);
      // The start event went with the other events; this one carries who started it and when.
      const state = this.stmts.state.get() as StateRow;
      events.record('UNINSTALL_FINISHED', null, `uninstall finished: ${sum(counts, 'succeeded')} endpoint(s) removed their tools, ${sum(counts, 'failed')} failed, ${sum(counts, 'pending')} never answered`, {
        detail, startedBy: state.started_by, startedAt: new Date(state.started_at).toISOString(), succeeded: sum(counts, 'succeeded'), failed: sum(counts, 'failed'), pending: sum(counts, 'pending'),
      });
      log.warn({ detail }, 'uninstall finished: server data removed');
    } finally {
      this.removing = false;
    }
  }

  private progress(): OsProgress[] {
    const byOs = new Map<string, { targeted: number; succeeded: number; failed: number; pending: number }>();
    for (const t of this.stmts.targets.all() as TargetRow[]) {
      const p = byOs.get(t.os) ?? { targeted: 0, succeeded: 0, failed: 0, pending: 0 };
      p.targeted++;
      if (t.outcome === 'SUCCEEDED') p.succeeded++;
      else if (t.outcome === 'FAILED') p.failed++;
      else p.pending++;
      byOs.set(t.os, p);
    }
    return [...byOs.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([os, p]) => ({ os, ...p }));
  }

  /** The uninstall as it stands (phase NONE when none was started); moves it on first. */
  status(): UninstallView {
    this.safeTick();
    const state = this.stmts.state.get() as StateRow | undefined;
    if (!state) return { phase: 'NONE', endpoints: [], warnings: [], startedAt: null, finishedAt: null, detail: '' };
    let warnings: string[] = [];
    try {
      warnings = JSON.parse(state.warnings) as string[];
    } catch {
      // an unreadable list reads as none
    }
    return { phase: state.phase as UninstallPhase, endpoints: this.progress(), warnings, startedAt: state.started_at, finishedAt: state.finished_at, detail: state.detail };
  }
}

function sum(list: readonly OsProgress[], key: 'succeeded' | 'failed' | 'pending'): number {
  return list.reduce((n, p) => n + p[key], 0);
}

const PHASE: Record<UninstallPhase, ms.UninstallPhase> = {
  NONE: ms.UninstallPhase.UNINSTALL_PHASE_UNSPECIFIED,
  PLANNED: ms.UninstallPhase.UNINSTALL_PHASE_PLANNED,
  REMOVING_FROM_ENDPOINTS: ms.UninstallPhase.UNINSTALL_PHASE_REMOVING_FROM_ENDPOINTS,
  REMOVING_SERVER_DATA: ms.UninstallPhase.UNINSTALL_PHASE_REMOVING_SERVER_DATA,
  DONE: ms.UninstallPhase.UNINSTALL_PHASE_DONE,
  FAILED: ms.UninstallPhase.UNINSTALL_PHASE_FAILED,
};

function osValue(os: string): common.OperatingSystem {
  const v = common.operatingSystemFromJSON(`OPERATING_SYSTEM_${os.toUpperCase()}`);
  return v === common.OperatingSystem.UNRECOGNIZED ? common.OperatingSystem.OPERATING_SYSTEM_UNSPECIFIED : v;
}

/** The contract's UninstallStatus. */
export function uninstallStatusProto(v: UninstallView): ms.UninstallStatus {
  return {
    phase: PHASE[v.phase],
    endpoints: v.endpoints.map((p) => ({ os: osValue(p.os), targeted: p.targeted, succeeded: p.succeeded, failed: p.failed, pending: p.pending })),
    warnings: [...v.warnings],
    startTime: v.startedAt === null ? undefined : new Date(v.startedAt),
    finishTime: v.finishedAt === null ? undefined : new Date(v.finishedAt),
    detail: v.detail,
  };
}
