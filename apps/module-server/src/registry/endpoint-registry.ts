// The endpoint registry: every endpoint the broker knows, its identity, presence and the last
// reasons it dropped (SPEC §3), kept in memory for speed and written through to broker.db.
import { FailedPrecondition, NotFound } from '@dc/service-kit';
import type { ActionStatus } from '../sessions/action-status';
import type { BrokerDb } from './broker-db';

/**
 * SPEC §3.1: Online / Offline ("Managed (Offline)"); NEVER_CONNECTED until the first hello;
 * STOPPED when its last channel ended with a Goodbye saying the machine shuts down (SPEC §3.2);
 * REMOVED when it said goodbye after Remove Tools (SPEC 1.7.4).
 */
export type EndpointStatus = 'NEVER_CONNECTED' | 'ONLINE' | 'OFFLINE' | 'STOPPED' | 'REMOVED';
/** Why an endpoint closed its control channel on purpose (gateway Goodbye). */
export type GoodbyeReason = 'UNSPECIFIED' | 'MACHINE_SHUTDOWN' | 'AGENT_RESTART' | 'AGENT_STOPPED' | 'TOOLS_REMOVED';
export type EnrolmentState = 'ENROLLED' | 'NOT_ENROLLED';
/** Why the last control channel ended. */
export type DisconnectReason = 'CLEAN_CLOSE' | 'TRANSPORT_ERROR' | 'TLS_FAILURE' | 'BROKER_SHUTDOWN' | 'REPLACED';
/** Why the last mutual-TLS handshake (or certificate check) was refused. */
export type TlsFailureCause = 'EXPIRED' | 'NOT_YET_VALID' | 'REVOKED' | 'UNKNOWN_CA' | 'CLOCK_SKEW' | 'NO_CERTIFICATE' | 'OTHER';
/** SPEC 1.4.4: action lock is on or off on the endpoint. */

export interface EndpointFacts {
  readonly hostname: string;
  readonly ips: readonly string[];
  readonly os: string;
  readonly agentVersion: string;
  readonly toolsVersion: string;
  readonly actionLock: boolean;
  readonly recorderStatus: string;
  /** 'direct' or the zone proxy name. */
  readonly route: string;
}

export interface EndpointRecord extends EndpointFacts {
  readonly clientId: string;
  readonly enrolment: EnrolmentState;
  readonly enrolmentDetail: string | null;
  readonly status: EndpointStatus;
  readonly statusSince: number;
  readonly enrolledAt: number | null;
  readonly certSerial: string | null;
  readonly certNotAfter: number | null;
  readonly firstConnectedAt: number | null;
  readonly connectedAt: number | null;
  readonly lastHeartbeatAt: number | null;
  readonly lastDisconnectAt: number | null;
  readonly lastDisconnectReason: DisconnectReason | null;
  readonly lastDisconnectDetail: string | null;
  readonly clockSkewMs: number | null;
  readonly lastTlsFailureAt: number | null;
  readonly lastTlsFailureCause: TlsFailureCause | null;
  readonly lastTlsFailureDetail: string | null;
  // Optional only so records built by hand (tests) need not list them; rows always carry them.
  /** Content revision the endpoint reported applied in its last hello (EndpointConfiguration.revision). */
  readonly configurationRevision?: number;
  /** The last Configure Extension action sent (SPEC 1.7.3 "Configure Extension" deployment). */
  readonly configureActionId?: string | null;
  readonly configureRevision?: number | null;
  readonly configureStatus?: ActionStatus | null;
  readonly configureDetail?: string | null;
  readonly configureUpdatedAt?: number | null;
  /** The Goodbye of the current or last control channel, if it sent one. */
  readonly goodbyeReason?: GoodbyeReason | null;
  readonly goodbyeAt?: number | null;
}

interface Row {
  client_id: string;
  hostname: string;
  ips: string;
  os: string;
  agent_version: string;
  tools_version: string;
  action_lock: number;
  recorder_status: string;
  enrolment: string;
  enrolment_detail: string | null;
  status: string;
  route: string;
  enrolled_at: number | null;
  cert_serial: string | null;
  cert_not_after: number | null;
  first_connected_at: number | null;
  connected_at: number | null;
  last_heartbeat_at: number | null;
  status_since: number;
  last_disconnect_at: number | null;
  last_disconnect_reason: string | null;
  last_disconnect_detail: string | null;
  clock_skew_ms: number | null;
  last_tls_failure_at: number | null;
  last_tls_failure_cause: string | null;
  last_tls_failure_detail: string | null;
  configuration_revision: number;
  configure_action_id: string | null;
  configure_revision: number | null;
  configure_status: string | null;
  configure_detail: string | null;
  configure_updated_at: number | null;
  goodbye_reason: string | null;
  goodbye_at: number | null;
}

const COLUMNS: Record<keyof Omit<EndpointRecord, 'clientId'>, string> = {
  hostname: 'hostname',
  ips: 'ips',
  os: 'os',
  agentVersion: 'agent_version',
  toolsVersion: 'tools_version',
  actionLock: 'action_lock',
  recorderStatus: 'recorder_status',
  route: 'route',
  enrolment: 'enrolment',
  enrolmentDetail: 'enrolment_detail',
  status: 'status',
  statusSince: 'status_since',
  enrolledAt: 'enrolled_at',
  certSerial: 'cert_serial',
  certNotAfter: 'cert_not_after',
  firstConnectedAt: 'first_connected_at',
  connectedAt: 'connected_at',
  lastHeartbeatAt: 'last_heartbeat_at',
  lastDisconnectAt: 'last_disconnect_at',
  lastDisconnectReason: 'last_disconnect_reason',
  lastDisconnectDetail: 'last_disconnect_detail',
  clockSkewMs: 'clock_skew_ms',
  lastTlsFailureAt: 'last_tls_failure_at',
  lastTlsFailureCause: 'last_tls_failure_cause',
  lastTlsFailureDetail: 'last_tls_failure_detail',
  configurationRevision: 'configuration_revision',
  configureActionId: 'configure_action_id',
  configureRevision: 'configure_revision',
  configureStatus: 'configure_status',
  configureDetail: 'configure_detail',
  configureUpdatedAt: 'configure_updated_at',
  goodbyeReason: 'goodbye_reason',
  goodbyeAt: 'goodbye_at',
};

const EMPTY_FACTS: EndpointFacts = { hostname: '', ips: [], os: '', agentVersion: '', toolsVersion: '', actionLock: false, recorderStatus: '', route: 'direct' };

/**
 * The registry is the seam DESIGN asks for (SQLite embedded default, a shared engine later).
 * Memory is the truth for readers; broker.db is written behind it: changes are merged per
 * endpoint and written in one transaction at most `flushDelayMs` later (a commit per change
 * cost about 0.7 ms of each reconnect, and 10,000 endpoints reconnect after a restart), and
 * heartbeat times wait for `flush` from the sweeper. A new endpoint is written at once. Whoever
 * closes the database calls `flush` first.
 */
export class EndpointRegistry {
  private readonly byId = new Map<string, EndpointRecord>();
  private readonly dirtyHeartbeats = new Set<string>();
  /** Columns changed in memory and not yet written, per endpoint. */
  private readonly unwritten = new Map<string, Set<keyof typeof COLUMNS>>();
  private flushTimer?: NodeJS.Timeout;
  private readonly insertStmt;
  private readonly selectStmt;
  private readonly heartbeatStmt;
  private readonly updateStmts = new Map<string, ReturnType<BrokerDb['prepare']>>();

  constructor(
    private readonly db: BrokerDb,
    private readonly opts: { readonly flushDelayMs?: number; readonly onFlushError?: (err: Error) => void } = {},
  ) {
    this.insertStmt = db.prepare(
      `INSERT INTO endpoints (client_id, enrolment, status, status_since) VALUES (?, ?, ?, ?)`,
    );
    this.selectStmt = db.prepare('SELECT * FROM endpoints WHERE client_id = ?');
    this.heartbeatStmt = db.prepare('UPDATE endpoints SET last_heartbeat_at = ? WHERE client_id = ?');
    for (const row of db.prepare('SELECT * FROM endpoints').all() as Row[]) this.byId.set(row.client_id, fromRow(row));
  }

  get(clientId: string): EndpointRecord | undefined {
    return this.byId.get(clientId);
  }

  /** Like get, but a missing endpoint is a NotFound naming it. */
  require(clientId: string): EndpointRecord {
    const e = this.byId.get(clientId);
    if (!e) throw new NotFound(`endpoint "${clientId}" is not known to this broker`);
    return e;
  }

  list(): EndpointRecord[] {
    return [...this.byId.values()];
  }

  /**
   * Finds one endpoint by client id, IP address or computer name (SPEC 1.5/1.6), the name
   * matched case-insensitively as given or as its short (first-label) form. Undefined when
   * none matches; FailedPrecondition when the name is ambiguous.
   */
  find(target: string): EndpointRecord | undefined {
    const t = target.trim();
    const exact = this.byId.get(t);
    if (exact) return exact;
    const lower = t.toLowerCase();
    let matches = this.list().filter(
      (e) => e.ips.includes(t) || e.hostname.toLowerCase() === lower || e.hostname.toLowerCase().split('.')[0] === lower,
    );
    // A refused enrolment leaves a NOT_ENROLLED record under the same name; an enrolled one wins.
    const enrolled = matches.filter((m) => m.enrolment === 'ENROLLED');
    if (enrolled.length > 0) matches = enrolled;
    if (matches.length > 1) {
      throw new FailedPrecondition(`target "${t}" matches ${matches.length} endpoints (${matches.map((m) => m.clientId).join(', ')}); use the client id`);
    }
    return matches[0];
  }

  /** Creates the endpoint if new, then applies the changes; returns the updated record. */
  upsert(clientId: string, changes: Partial<Omit<EndpointRecord, 'clientId'>>, now: number): EndpointRecord {
    const current = this.byId.get(clientId);
    if (current) return this.update(current, changes);
    // A new endpoint (an enrolment) is written at once, not behind.
    const enrolment = changes.enrolment ?? 'NOT_ENROLLED';
    return this.db.transaction(() => {
      this.insertStmt.run(clientId, enrolment, 'NEVER_CONNECTED', now);
      const next = this.update(fromRow(this.selectStmt.get(clientId) as Row), changes);
      this.writeUnwritten(clientId);
      return next;
    })();
  }

  /** Applies changes to a known endpoint. */
  patch(clientId: string, changes: Partial<Omit<EndpointRecord, 'clientId'>>): EndpointRecord {
    return this.update(this.require(clientId), changes);
  }

  recordHeartbeat(clientId: string, at: number): void {
    const e = this.byId.get(clientId);
    if (!e) return;
    this.byId.set(clientId, { ...e, lastHeartbeatAt: at });
    this.dirtyHeartbeats.add(clientId);
  }

  /** Forgets every endpoint held in memory (uninstall, after the rows were deleted). */
  forgetAll(): void {
    this.byId.clear();
    this.dirtyHeartbeats.clear();
    this.unwritten.clear();
  }

  /**
   * Writes every change held in memory, heartbeat times included, in one transaction; returns
   * how many endpoints were written. On failure nothing is marked written, and it throws.
   */
  flush(): number {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    if (this.unwritten.size === 0 && this.dirtyHeartbeats.size === 0) return 0;
    const ids = new Set([...this.unwritten.keys(), ...this.dirtyHeartbeats]);
    this.db.transaction(() => {
      for (const id of this.unwritten.keys()) this.writeUnwritten(id);
      for (const id of this.dirtyHeartbeats) this.heartbeatStmt.run(this.byId.get(id)?.lastHeartbeatAt ?? null, id);
    })();
    this.unwritten.clear();
    this.dirtyHeartbeats.clear();
    return ids.size;
  }

  /** Writes one endpoint's unwritten columns (inside the caller's transaction) and forgets them. */
  private writeUnwritten(clientId: string): void {
    const cols = this.unwritten.get(clientId);
    const rec = this.byId.get(clientId);
    if (!cols || !rec) return;
    const keys = [...cols].sort();
    const sig = keys.join(',');
    let stmt = this.updateStmts.get(sig);
    if (!stmt) {
      stmt = this.db.prepare(`UPDATE endpoints SET ${keys.map((k) => `${COLUMNS[k]} = ?`).join(', ')} WHERE client_id = ?`);
      this.updateStmts.set(sig, stmt);
    }
    stmt.run([...keys.map((k) => toColumnValue(k, rec[k])), clientId]);
    this.unwritten.delete(clientId);
    if (keys.includes('lastHeartbeatAt')) this.dirtyHeartbeats.delete(clientId);
  }

  private scheduleFlush(): void {
    if (this.flushTimer) return;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      if (!this.db.open) return; // closed after its final flush (late disconnects at shutdown)
      try {
        this.flush();
      } catch (err) {
        // Kept in memory and retried with the next change or flush.
        (this.opts.onFlushError ?? ((e: Error) => process.emitWarning(`broker.db: endpoint registry write failed: ${e.message}`)))(err as Error);
      }
    }, this.opts.flushDelayMs ?? 50);
    this.flushTimer.unref();
  }

  private update(current: EndpointRecord, changes: Partial<Omit<EndpointRecord, 'clientId'>>): EndpointRecord {
    const keys = (Object.keys(changes) as Array<keyof typeof COLUMNS>).filter((k) => changes[k] !== undefined && k in COLUMNS);
    if (keys.length === 0) return current;
    const next = { ...current, ...changes } as EndpointRecord;
    this.byId.set(current.clientId, next);
    let cols = this.unwritten.get(current.clientId);
    if (!cols) this.unwritten.set(current.clientId, (cols = new Set()));
    for (const k of keys) cols.add(k);
    this.scheduleFlush();
    return next;
  }
}

function toColumnValue(key: string, value: unknown): unknown {
  if (key === 'ips') return JSON.stringify(value);
  if (key === 'actionLock') return value ? 1 : 0;
  return value;
}

function fromRow(r: Row): EndpointRecord {
  let ips: string[] = [];
  try {
    const parsed = JSON.parse(r.ips) as unknown;
    if (Array.isArray(parsed)) ips = parsed.filter((x): x is string => typeof x === 'string');
  } catch {
    // an unreadable IP list reads as none; the next hello rewrites it
  }
  return {
    ...EMPTY_FACTS,
    clientId: r.client_id,
    hostname: r.hostname,
    ips,
    os: r.os,
    agentVersion: r.agent_version,
    toolsVersion: r.tools_version,
    actionLock: r.action_lock === 1,
    recorderStatus: r.recorder_status,
    route: r.route,
    enrolment: r.enrolment as EnrolmentState,
    enrolmentDetail: r.enrolment_detail,
    status: r.status as EndpointStatus,
    statusSince: r.status_since,
    enrolledAt: r.enrolled_at,
    certSerial: r.cert_serial,
    certNotAfter: r.cert_not_after,
    firstConnectedAt: r.first_connected_at,
    connectedAt: r.connected_at,
    lastHeartbeatAt: r.last_heartbeat_at,
    lastDisconnectAt: r.last_disconnect_at,
    lastDisconnectReason: r.last_disconnect_reason as DisconnectReason | null,
    lastDisconnectDetail: r.last_disconnect_detail,
    clockSkewMs: r.clock_skew_ms,
    lastTlsFailureAt: r.last_tls_failure_at,
    lastTlsFailureCause: r.last_tls_failure_cause as TlsFailureCause | null,
    lastTlsFailureDetail: r.last_tls_failure_detail,
    configurationRevision: r.configuration_revision,
    configureActionId: r.configure_action_id,
    configureRevision: r.configure_revision,
    configureStatus: r.configure_status as ActionStatus | null,
    configureDetail: r.configure_detail,
    configureUpdatedAt: r.configure_updated_at,
    goodbyeReason: r.goodbye_reason as GoodbyeReason | null,
    goodbyeAt: r.goodbye_at,
  };
}
