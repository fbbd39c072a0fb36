// settings.db: versioned JSON documents, the audit log written in the same transaction as each change, and tokens.
import Database from 'better-sqlite3';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import type { Clock } from '../clock';
import { migrate } from './migrations';
import { redactSecrets } from './redact';

export type ChangeAction = 'create' | 'update' | 'delete' | 'event';

/** Who acts: a principal name, or the full context the gRPC adapter knows. */
export type Actor = string | ActorContext;

export interface ActorContext {
  name: string;
  principalId?: string;
  /** The operation, e.g. the rpc name "UpdateConnectionSettings". */
  operation?: string;
  component?: string;
  peer?: string;
}

export type AuditOutcome = 'SUCCEEDED' | 'DENIED' | 'FAILED';

/** An audit-log row as listed (ListAuditEntries). */
export interface AuditEntry extends ChangeRecord {
  principalId: string;
  operation: string;
  outcome: AuditOutcome;
  component: string;
  peer: string;
  detail: string;
}

export interface AuditFilter {
  beforeRevision?: number;
  startTime?: Date;
  endTime?: Date;
  principal?: string;
  resourcePrefix?: string;
  operation?: string;
  limit: number;
}

/** One revision of the store: who changed what, when, with secrets redacted in before/after. */
export interface ChangeRecord {
  revision: number;
  at: Date;
  actor: string;
  kind: string;
  key: string;
  action: ChangeAction;
  before: unknown;
  after: unknown;
}

export interface StoredDocument<T> {
  kind: string;
  key: string;
  value: T;
  revision: number;
  updatedAt: Date;
}

export type ChangeListener = (change: ChangeRecord) => void;

interface DocumentRow {
  kind: string;
  key: string;
  value: string;
  revision: number;
  updated_at: string;
}

interface AuditRow {
  revision: number;
  at: string;
  actor: string;
  principal_id: string;
  operation: string;
  kind: string;
  key: string;
  action: ChangeAction;
  outcome: AuditOutcome;
  component: string;
  peer: string;
  detail: string;
  before: string | null;
  after: string | null;
}

export const SETTINGS_DB_FILE = 'settings.db';

/**
 * The settings store. Every write goes through put/remove/recordChange, which append to the
 * audit log in the same SQLite transaction; listeners hear about a change only after commit.
 */
export class SettingsStore {
  readonly db: Database.Database;
  private readonly listeners = new Set<ChangeListener>();
  private pending: ChangeRecord[] = [];
  private depth = 0;
  private readonly stmt;

  private constructor(
    db: Database.Database,
    private readonly clock: Clock,
  ) {
    this.db = db;
    this.stmt = {
      get: db.prepare<[string, string], DocumentRow>('SELECT * FROM documents WHERE kind = ? AND key = ?'),
      list: db.prepare<[string], DocumentRow>('SELECT * FROM documents WHERE kind = ? ORDER BY key'),
      upsert: db.prepare(
        `INSERT INTO documents (kind, key, value, revision, updated_at) VALUES (@kind, @key, @value, @revision, @at)
         ON CONFLICT (kind, key) DO UPDATE SET value = excluded.value, revision = excluded.revision, updated_at = excluded.updated_at`,
      ),
      remove: db.prepare<[string, string]>('DELETE FROM documents WHERE kind = ? AND key = ?'),
      audit: db.prepare(
        `INSERT INTO audit_log (at, actor, principal_id, operation, kind, key, action, outcome, component, peer, detail, before, after)
         VALUES (@at, @actor, @principalId, @operation, @kind, @key, @action, @outcome, @component, @peer, @detail, @before, @after)`,
      ),
      revision: db.prepare<[], { r: number | null }>('SELECT MAX(revision) AS r FROM audit_log'),
      since: db.prepare<[number, number], AuditRow>(
        'SELECT * FROM audit_log WHERE revision > ? ORDER BY revision LIMIT ?',
      ),
      getMeta: db.prepare<[string], { value: string }>('SELECT value FROM meta WHERE name = ?'),
      setMeta: db.prepare(
        'INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value',
      ),
    };
  }

  /** Opens (creating if needed) `<dataDir>/settings.db`, readable by its owner only, and migrates it. */
  static open(dataDir: string, clock: Clock): SettingsStore {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    const file = join(dataDir, SETTINGS_DB_FILE);
    if (!existsSync(file)) closeSync(openSync(file, 'a', 0o600));
    chmodSync(file, 0o600);
    const db = new Database(file);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('busy_timeout = 5000');
    migrate(db);
    return new SettingsStore(db, clock);
  }

  close(): void {
    this.db.close();
  }

  /**
   * Runs `fn` in one transaction (nested calls join the outer one). Listeners hear about the
   * changes made inside only once the outermost transaction has committed.
   */
  transaction<T>(fn: () => T): T {
    if (this.depth > 0) return fn();
    this.depth++;
    let result: T;
    try {
      result = this.db.transaction(fn)();
    } catch (err) {
      this.pending = [];
      throw err;
    } finally {
      this.depth--;
    }
    const committed = this.pending;
    this.pending = [];
    for (const change of committed) {
      for (const listener of this.listeners) {
        try {
          listener(change);
        } catch {
          // A failing listener must not undo a committed change nor starve the others.
        }
      }
    }
    return result;
  }

  get<T>(kind: string, key: string): StoredDocument<T> | undefined {
    const row = this.stmt.get.get(kind, key);
    return row && toDocument<T>(row);
  }

  list<T>(kind: string): StoredDocument<T>[] {
    return this.stmt.list.all(kind).map((row) => toDocument<T>(row));
  }

  /** Creates or replaces a document; returns the new revision. */
  put<T>(actor: Actor, kind: string, key: string, value: T): number {
    return this.transaction(() => {
      const before = this.get<T>(kind, key);
      const revision = this.recordChange(actor, kind, key, before ? 'update' : 'create', before?.value, value);
      this.stmt.upsert.run({ kind, key, value: JSON.stringify(value), revision, at: this.clock.now().toISOString() });
      return revision;
    });
  }

  /** Deletes a document; returns the new revision, or undefined when there was nothing to delete. */
  remove(actor: Actor, kind: string, key: string): number | undefined {
    return this.transaction(() => {
      const before = this.get(kind, key);
      if (!before) return undefined;
      const revision = this.recordChange(actor, kind, key, 'delete', before.value, undefined);
      this.stmt.remove.run(kind, key);
      return revision;
    });
  }

  /** Appends one audit-log entry (secrets redacted) and returns its revision. Use inside a transaction. */
  recordChange(
    actor: Actor,
    kind: string,
    key: string,
    action: ChangeAction,
    before: unknown,
    after: unknown,
    extra: { outcome?: AuditOutcome; detail?: string } = {},
  ): number {
    return this.transaction(() => {
      const at = this.clock.now();
      const who = typeof actor === 'string' ? { name: actor } : actor;
      const redactedBefore = before === undefined ? undefined : redactSecrets(before);
      const redactedAfter = after === undefined ? undefined : redactSecrets(after);
      const info = this.stmt.audit.run({
        at: at.toISOString(),
        actor: who.name,
        principalId: who.principalId ?? '',
        operation: who.operation ?? '',
        kind,
        key,
        action,
        outcome: extra.outcome ?? 'SUCCEEDED',
        component: who.component ?? 'settings',
        peer: who.peer ?? '',
        detail: extra.detail ?? '',
        before: redactedBefore === undefined ? null : JSON.stringify(redactedBefore),
        after: redactedAfter === undefined ? null : JSON.stringify(redactedAfter),
      });
      const revision = Number(info.lastInsertRowid);
      this.pending.push({ revision, at, actor: who.name, kind, key, action, before: redactedBefore, after: redactedAfter });
      return revision;
    });
  }

  /** Audit-log entries, newest first, filtered (ListAuditEntries). */
  listAudit(filter: AuditFilter): AuditEntry[] {
    const where: string[] = [];
    const args: Record<string, unknown> = { limit: filter.limit };
    if (filter.beforeRevision) {
      where.push('revision < @before');
      args.before = filter.beforeRevision;
    }
    if (filter.startTime) {
      where.push('at >= @start');
      args.start = filter.startTime.toISOString();
    }
    if (filter.endTime) {
      where.push('at < @end');
      args.end = filter.endTime.toISOString();
    }
    if (filter.principal) {
      where.push('actor = @principal');
      args.principal = filter.principal;
    }
    if (filter.operation) {
      where.push('operation = @operation');
      args.operation = filter.operation;
    }
    if (filter.resourcePrefix) {
      where.push("substr(kind || '/' || key, 1, length(@prefix)) = @prefix");
      args.prefix = filter.resourcePrefix;
    }
    const sql = `SELECT * FROM audit_log ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY revision DESC LIMIT @limit`;
    return this.db
      .prepare<Record<string, unknown>, AuditRow>(sql)
      .all(args)
      .map((row) => ({
        ...toChange(row),
        principalId: row.principal_id,
        operation: row.operation,
        outcome: row.outcome,
        component: row.component,
        peer: row.peer,
        detail: row.detail,
      }));
  }

  /** The audit-log entry of one revision (e.g. to tell who last changed a document). */
  changeAt(revision: number): ChangeRecord | undefined {
    return this.changesSince(revision - 1, 1).find((c) => c.revision === revision);
  }

  /** The latest revision (0 for an empty store). */
  revision(): number {
    return this.stmt.revision.get()?.r ?? 0;
  }

  /** Audit-log entries after `revision`, oldest first. */
  changesSince(revision: number, limit = 10_000): ChangeRecord[] {
    return this.stmt.since.all(revision, limit).map(toChange);
  }

  getMeta(name: string): string | undefined {
    return this.stmt.getMeta.get(name)?.value;
  }

  setMeta(name: string, value: string): void {
    this.stmt.setMeta.run(name, value);
  }

  /** Registers a listener for committed changes; returns the function that unregisters it. */
  onChange(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

function toDocument<T>(row: DocumentRow): StoredDocument<T> {
  return {
    kind: row.kind,
    key: row.key,
    value: JSON.parse(row.value) as T,
    revision: row.revision,
    updatedAt: new Date(row.updated_at),
  };
}

function toChange(row: AuditRow): ChangeRecord {
  return {
    revision: row.revision,
    at: new Date(row.at),
    actor: row.actor,
    kind: row.kind,
    key: row.key,
    action: row.action,
    before: row.before === null ? undefined : JSON.parse(row.before),
    after: row.after === null ? undefined : JSON.parse(row.after),
  };
}
