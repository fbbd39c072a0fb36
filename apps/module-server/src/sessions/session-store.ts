// Sessions in broker.db: every session across all modules with the SPEC 1.5 columns.
import { randomUUID } from 'node:crypto';
import { NotFound } from '@dc/service-kit';
import type { Logger } from 'pino';
import type { Clock } from '../clock';
import type { BrokerDb } from '../registry/broker-db';
import { type ActionStatus, checkMove, isFinal, isParseableActionStatus, type SessionStatus, sessionStatusFor } from './action-status';

/** Default idle timeout of a session (gateway contract: 10 min). */
export const DEFAULT_IDLE_TIMEOUT_MS = 10 * 60_000;

export interface SessionRecord {
  readonly sessionId: string;
  readonly clientId: string;
  readonly module: string;
  readonly requestedBy: string;
  readonly actionStatus: ActionStatus;
  readonly sessionStatus: SessionStatus;
  readonly statusDetail: string;
  readonly createdAt: number;
  readonly attachedAt: number | null;
  readonly closedAt: number | null;
  readonly lastMessageAt: number | null;
  /** The Open Session action's id. */
  readonly actionId: string;
  readonly idleTimeoutMs: number;
  readonly requestsCompleted: number;
}

interface Row {
  session_id: string;
  client_id: string;
  module: string;
  requested_by: string;
  action_status: string;
  session_status: string;
  status_detail: string;
  created_at: number;
  attached_at: number | null;
  closed_at: number | null;
  last_message_at: number | null;
  action_id: string;
  idle_timeout_ms: number;
  requests_completed: number;
}

export class SessionStore {
  private readonly insert;
  private readonly update;
  private readonly touchStmt;
  private readonly byIdStmt;
  private readonly listStmt;
  private readonly openStmt;

  constructor(private readonly deps: { db: BrokerDb; clock: Clock; log: Logger }) {
    const { db } = deps;
    this.insert = db.prepare(
      `INSERT INTO sessions (session_id, client_id, module, requested_by, action_status, session_status, created_at, action_id, idle_timeout_ms)
       VALUES (?, ?, ?, ?, 'CREATING', 'PENDING', ?, ?, ?)`,
    );
    this.update = db.prepare(
      'UPDATE sessions SET action_status = ?, session_status = ?, status_detail = ?, attached_at = ?, closed_at = ? WHERE session_id = ?',
    );
    this.touchStmt = db.prepare('UPDATE sessions SET last_message_at = ?, requests_completed = requests_completed + ? WHERE session_id = ?');
    this.byIdStmt = db.prepare('SELECT * FROM sessions WHERE session_id = ?');
    this.listStmt = db.prepare(
      `SELECT * FROM sessions WHERE (? = 0 OR session_status IN ('PENDING','OPEN')) AND (? IS NULL OR client_id = ?) AND (? IS NULL OR module = ?)
       AND (? IS NULL OR created_at < ? OR (created_at = ? AND session_id < ?))
       ORDER BY created_at DESC, session_id DESC LIMIT ?`,
    );
    this.openStmt = db.prepare(`SELECT * FROM sessions WHERE session_status IN ('PENDING','OPEN')`);
  }

  create(clientId: string, module: string, requestedBy: string, idleTimeoutMs = DEFAULT_IDLE_TIMEOUT_MS): SessionRecord {
    const id = randomUUID();
    this.insert.run(id, clientId, module, requestedBy, this.deps.clock.now(), randomUUID(), idleTimeoutMs);
    return this.require(id);
  }

  get(sessionId: string): SessionRecord | undefined {
    const row = this.byIdStmt.get(sessionId) as Row | undefined;
    return row ? fromRow(row) : undefined;
  }

  require(sessionId: string): SessionRecord {
    const s = this.get(sessionId);
    if (!s) throw new NotFound(`session "${sessionId}" does not exist`);
    return s;
  }

  /** Moves the action status (and the session status with it); refuses a transition SPEC 1.5 does not allow. */
  move(sessionId: string, to: ActionStatus, detail = '', opts: { attached?: boolean } = {}): SessionRecord {
    const s = this.require(sessionId);
    checkMove(sessionId, s.actionStatus, to);
    const now = this.deps.clock.now();
    const attachedAt = opts.attached && s.attachedAt === null ? now : s.attachedAt;
    const sessionStatus = sessionStatusFor(to, attachedAt !== null && !isFinal(to));
    const closedAt = sessionStatus === 'CLOSED' || sessionStatus === 'FAILED' ? (s.closedAt ?? now) : null;
    this.update.run(to, sessionStatus, detail || s.statusDetail, attachedAt, closedAt, sessionId);
    return this.require(sessionId);
  }

  /** The endpoint sent something on the session (and maybe finished a request). */
  touch(sessionId: string, requestsCompleted = 0): void {
    this.touchStmt.run(this.deps.clock.now(), requestsCompleted, sessionId);
  }

  list(opts: { activeOnly?: boolean; clientId?: string; module?: string; pageSize?: number; pageToken?: string } = {}): { sessions: SessionRecord[]; nextPageToken: string } {
    const size = Math.min(Math.max(opts.pageSize ?? 100, 1), 1000);
    let afterAt: number | null = null;
    let afterId: string | null = null;
    if (opts.pageToken) {
      const [at, id] = Buffer.from(opts.pageToken, 'base64url').toString('utf8').split('|');
      afterAt = Number(at);
      afterId = id ?? '';
    }
    const rows = this.listStmt.all(
      opts.activeOnly ? 1 : 0,
      opts.clientId ?? null, opts.clientId ?? null,
      opts.module ?? null, opts.module ?? null,
      afterAt, afterAt, afterAt, afterId,
      size + 1,
    ) as Row[];
    const sessions = rows.slice(0, size).map(fromRow).filter((s): s is SessionRecord => s !== undefined);
    const last = sessions[sessions.length - 1];
    const nextPageToken = rows.length > size && last ? Buffer.from(`${last.createdAt}|${last.sessionId}`).toString('base64url') : '';
    return { sessions, nextPageToken };
  }

  /** Sessions not yet closed (e.g. left over from before a restart). */
  active(): SessionRecord[] {
    return (this.openStmt.all() as Row[]).map(fromRow).filter((s): s is SessionRecord => s !== undefined);
  }
}

function fromRow(r: Row): SessionRecord {
  const action = isParseableActionStatus(r.action_status) ? r.action_status : 'ERROR';
  return {
    sessionId: r.session_id,
    clientId: r.client_id,
    module: r.module,
    requestedBy: r.requested_by,
    actionStatus: action,
    sessionStatus: r.session_status as SessionStatus,
    statusDetail: r.status_detail,
    createdAt: r.created_at,
    attachedAt: r.attached_at,
    closedAt: r.closed_at,
    lastMessageAt: r.last_message_at,
    actionId: r.action_id,
    idleTimeoutMs: r.idle_timeout_ms,
    requestsCompleted: r.requests_completed,
  };
}
