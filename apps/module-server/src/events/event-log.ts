// Broker events and alerts (SPEC §3.1: a status change shows as an event and as an alert),
// persisted in broker.db and fanned out to live subscribers (the events/alerts stream).
import type { Logger } from 'pino';
import type { BrokerDb } from '../registry/broker-db';
import type { Clock } from '../clock';

export type BrokerEventKind =
  | 'ENDPOINT_ENROLLED'
  | 'ENDPOINT_ENROLMENT_REFUSED'
  | 'ENDPOINT_ONLINE'
  | 'ENDPOINT_OFFLINE'
  | 'ENDPOINT_CONNECTED'
  | 'ENDPOINT_DISCONNECTED'
  | 'ENDPOINT_STOPPED'
  | 'ENDPOINT_REMOVED'
  | 'ENDPOINT_CERTIFICATE_RENEWED'
  | 'HANDSHAKE_REFUSED'
  | 'ALERT_RAISED'
  | 'ALERT_ACKNOWLEDGED'
  | 'ALERT_CLEARED'
  | 'SESSION_OPENED'
  | 'SESSION_CLOSED'
  | 'KEY_RETRIEVED'
  | 'CONFIGURATION_DEPLOYED'
  | 'CONFIGURATION_FAILED'
  | 'UNINSTALL_STARTED'
  | 'UNINSTALL_FINISHED'
  | 'UNINSTALL_FAILED';

export interface BrokerEvent {
  readonly id: number;
  readonly at: number;
  readonly kind: BrokerEventKind;
  readonly clientId: string | null;
  readonly message: string;
  readonly data: Record<string, unknown>;
}

export type AlertKind = 'ENDPOINT_OFFLINE';

export interface Alert {
  readonly id: number;
  readonly clientId: string;
  readonly kind: AlertKind;
  readonly raisedAt: number;
  readonly clearedAt: number | null;
  readonly message: string;
  readonly acknowledgedAt: number | null;
  /** Principal name; '' while unacknowledged. */
  readonly acknowledgedBy: string;
  /** Principal name, or 'system' when the condition ended by itself; '' while open. */
  readonly clearedBy: string;
  /** Free text given when acknowledging or clearing. */
  readonly note: string;
}

export type EventListener = (event: BrokerEvent) => void;

interface EventRow {
  id: number;
  at: number;
  kind: string;
  client_id: string | null;
  message: string;
  data: string;
}
interface AlertRow {
  id: number;
  client_id: string;
  kind: string;
  raised_at: number;
  cleared_at: number | null;
  message: string;
  acknowledged_at: number | null;
  acknowledged_by: string;
  cleared_by: string;
  note: string;
}

export class EventLog {
  private readonly listeners = new Set<EventListener>();
  private readonly insertEvent;
  private readonly selectEvents;
  private readonly insertAlert;
  private readonly selectOpenAlert;
  private readonly clearAlertStmt;
  private readonly selectAlerts;
  private readonly selectAlert;
  private readonly acknowledgeStmt;

  constructor(
    private readonly deps: { db: BrokerDb; clock: Clock; log: Logger },
  ) {
    const { db } = deps;
    this.insertEvent = db.prepare('INSERT INTO events (at, kind, client_id, message, data) VALUES (?, ?, ?, ?, ?)');
    this.selectEvents = db.prepare('SELECT * FROM events WHERE id > ? AND (? IS NULL OR client_id = ?) ORDER BY id LIMIT ?');
    this.insertAlert = db.prepare('INSERT INTO alerts (client_id, kind, raised_at, message) VALUES (?, ?, ?, ?)');
    this.selectOpenAlert = db.prepare('SELECT * FROM alerts WHERE client_id = ? AND kind = ? AND cleared_at IS NULL');
    this.clearAlertStmt = db.prepare("UPDATE alerts SET cleared_at = ?, cleared_by = ?, note = CASE WHEN ? = '' THEN note ELSE ? END WHERE id = ?");
    this.selectAlert = db.prepare('SELECT * FROM alerts WHERE id = ?');
    this.acknowledgeStmt = db.prepare('UPDATE alerts SET acknowledged_at = ?, acknowledged_by = ?, note = ? WHERE id = ? AND cleared_at IS NULL');
    this.selectAlerts = db.prepare('SELECT * FROM alerts WHERE (? = 0 OR cleared_at IS NULL) AND (? IS NULL OR client_id = ?) ORDER BY id DESC LIMIT ?');
  }

  /** Records an event and tells the live subscribers. */
  record(kind: BrokerEventKind, clientId: string | null, message: string, data: Record<string, unknown> = {}): BrokerEvent {
    const at = this.deps.clock.now();
    const info = this.insertEvent.run(at, kind, clientId, message, JSON.stringify(data));
    const event: BrokerEvent = { id: Number(info.lastInsertRowid), at, kind, clientId, message, data };
    this.publish(event);
    return event;
  }

  /** Events after `afterId` (oldest first), optionally for one endpoint. */
  list(opts: { afterId?: number; clientId?: string; limit?: number } = {}): BrokerEvent[] {
    const rows = this.selectEvents.all(opts.afterId ?? 0, opts.clientId ?? null, opts.clientId ?? null, opts.limit ?? 1000) as EventRow[];
    const out: BrokerEvent[] = [];
    for (const r of rows) {
      try {
        out.push({ id: r.id, at: r.at, kind: r.kind as BrokerEventKind, clientId: r.client_id, message: r.message, data: JSON.parse(r.data) as Record<string, unknown> });
      } catch (err) {
        this.deps.log.warn({ err, eventId: r.id }, 'skipping an unreadable event row');
      }
    }
    return out;
  }

  /** Raises the alert unless one of this kind is already open for the endpoint; returns it if newly raised. */
  raiseAlert(clientId: string, kind: AlertKind, message: string): Alert | undefined {
    if (this.selectOpenAlert.get(clientId, kind)) return undefined;
    const raisedAt = this.deps.clock.now();
    const info = this.insertAlert.run(clientId, kind, raisedAt, message);
    const alert: Alert = { id: Number(info.lastInsertRowid), clientId, kind, raisedAt, clearedAt: null, message, acknowledgedAt: null, acknowledgedBy: '', clearedBy: '', note: '' };
    this.record('ALERT_RAISED', clientId, message, { alertId: alert.id, alertKind: kind });
    return alert;
  }

  /** Clears the open alert of this kind, if any; returns it if one was cleared. */
  clearAlert(clientId: string, kind: AlertKind, message: string, by: { clearedBy?: string; note?: string } = {}): Alert | undefined {
    const row = this.selectOpenAlert.get(clientId, kind) as AlertRow | undefined;
    if (!row) return undefined;
    const clearedAt = this.deps.clock.now();
    const clearedBy = by.clearedBy ?? 'system';
    const note = by.note ?? '';
    this.clearAlertStmt.run(clearedAt, clearedBy, note, note, row.id);
    this.record('ALERT_CLEARED', clientId, message, { alertId: row.id, alertKind: kind });
    return { ...toAlert(row), clearedAt, clearedBy, note: note || row.note };
  }

  alert(id: number): Alert | undefined {
    const row = this.selectAlert.get(id) as AlertRow | undefined;
    return row ? toAlert(row) : undefined;
  }

  /**
   * Acknowledges an open alert (it stays open until its condition ends or someone clears it).
   * Returns undefined when no alert has this id; an already cleared alert is returned unchanged.
   */
  acknowledgeAlert(id: number, by: string, note: string): { alert: Alert; changed: boolean } | undefined {
    const row = this.selectAlert.get(id) as AlertRow | undefined;
    if (!row) return undefined;
    if (row.cleared_at !== null) return { alert: toAlert(row), changed: false };
    const at = this.deps.clock.now();
    this.acknowledgeStmt.run(at, by, note, id);
    this.record('ALERT_ACKNOWLEDGED', row.client_id, `alert acknowledged by ${by}${note ? `: ${note}` : ''}`, { alertId: id, alertKind: row.kind });
    return { alert: { ...toAlert(row), acknowledgedAt: at, acknowledgedBy: by, note }, changed: true };
  }

  alerts(opts: { openOnly?: boolean; clientId?: string; limit?: number } = {}): Alert[] {
    const rows = this.selectAlerts.all(opts.openOnly ? 1 : 0, opts.clientId ?? null, opts.clientId ?? null, opts.limit ?? 1000) as AlertRow[];
    return rows.map(toAlert);
  }

  /** Live events from now on; returns the unsubscribe function. */
  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private publish(event: BrokerEvent): void {
    for (const l of this.listeners) {
      try {
        l(event);
      } catch (err) {
        this.deps.log.warn({ err }, 'event subscriber failed');
      }
    }
  }
}

function toAlert(r: AlertRow): Alert {
  return {
    id: r.id, clientId: r.client_id, kind: r.kind as AlertKind, raisedAt: r.raised_at, clearedAt: r.cleared_at, message: r.message,
    acknowledgedAt: r.acknowledged_at, acknowledgedBy: r.acknowledged_by, clearedBy: r.cleared_by, note: r.note,
  };
}
