// Typed reads the broker's sessions call: events of one family in a time range (filtered,
// limited, paged by cursor), process history with resource samples, counts per family.
import type Database from 'better-sqlite3';
import type { Connection } from '../connection';
import { InvalidMonitorInput } from '../errors';
import { EVENT_FAMILIES, type EventFamily } from '../records';
import {
  decodeRow,
  FAMILY_COLUMNS,
  PROCESS_COLUMNS,
  SAMPLE_COLUMNS,
  selectList,
  type EventRowByFamily,
  type ProcessRow,
  type ProcessSampleRow,
} from './rows';

/** Equality on row fields (a value, or any of several values); AND across fields. */
export type FieldFilter = Record<string, string | number | boolean | null | readonly (string | number)[]>;

export interface EventQuery<F extends EventFamily = EventFamily> {
  family: F;
  /** Inclusive, epoch ms. */
  from: number;
  /** Exclusive, epoch ms. */
  to: number;
  /** A field/value map (run in SQL) or a predicate over the typed row (e.g. from @dc/filters). */
  filter?: FieldFilter | ((row: EventRowByFamily[F]) => boolean);
  /** Rows per page, 1–10000. */
  limit: number;
  /** `nextCursor` of the previous page. */
  cursor?: string;
  /** Oldest first (default) or newest first. */
  order?: 'asc' | 'desc';
}

export interface EventPage<R> {
  rows: R[];
  /** Present when more rows match; pass it back as `cursor`. */
  nextCursor?: string;
}

export interface ProcessHistoryQuery {
  pid?: number;
  exe?: string;
  from: number;
  to: number;
  /** Most processes returned, newest start first; default 1000. */
  limit?: number;
}

export interface ProcessHistoryEntry {
  process: ProcessRow;
  /** Samples of this process within [from, to), oldest first. */
  samples: ProcessSampleRow[];
  /** Events per family attributed to this process within [from, to). */
  eventCounts: Record<EventFamily, number>;
}

export interface FileHistoryQuery {
  /** The exact path; renames to or from it are included. */
  path: string;
  from: number;
  to: number;
  /** Rows returned, oldest first, 1–10000. */
  limit: number;
}

export const QUERY_LIMIT_MAX = 10_000;

function checkTimeRange(from: unknown, to: unknown): void {
  if (typeof from !== 'number' || !Number.isSafeInteger(from)) throw new InvalidMonitorInput('from', 'must be epoch milliseconds', from);
  if (typeof to !== 'number' || !Number.isSafeInteger(to)) throw new InvalidMonitorInput('to', 'must be epoch milliseconds', to);
  if (to < from) throw new InvalidMonitorInput('to', `must not be before from (${from})`, to);
}

function encodeCursor(time: number, id: number): string {
  return Buffer.from(JSON.stringify([time, id])).toString('base64url');
}

function decodeCursor(cursor: string): [number, number] {
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(v) && v.length === 2 && v.every((n) => Number.isSafeInteger(n))) return v as [number, number];
  } catch {
    // fall through to the error below
  }
  throw new InvalidMonitorInput('cursor', 'must be a nextCursor returned by a previous page', cursor);
}

/** Prepared statements per distinct query shape, cached per connection. */
const statementCache = new WeakMap<Connection, Map<string, Database.Statement>>();

function prepared(conn: Connection, sql: string): Database.Statement {
  let cache = statementCache.get(conn);
  if (!cache) statementCache.set(conn, (cache = new Map()));
  let stmt = cache.get(sql);
  if (!stmt) {
    stmt = conn.db.prepare(sql);
    if (cache.size < 200) cache.set(sql, stmt);
  }
  return stmt;
}

export function queryEvents<F extends EventFamily>(conn: Connection, q: EventQuery<F>): EventPage<EventRowByFamily[F]> {
  const spec = FAMILY_COLUMNS[q.family];
  if (!spec) throw new InvalidMonitorInput('family', `must be one of ${EVENT_FAMILIES.join(', ')}`, q.family);
  checkTimeRange(q.from, q.to);
  if (!Number.isInteger(q.limit) || q.limit < 1 || q.limit > QUERY_LIMIT_MAX) {
    throw new InvalidMonitorInput('limit', `must be an integer from 1 to ${QUERY_LIMIT_MAX}`, q.limit);
  }
  const desc = q.order === 'desc';
  if (q.order !== undefined && q.order !== 'asc' && !desc) throw new InvalidMonitorInput('order', 'must be asc or desc', q.order);

  const where = ['e.time >= ?', 'e.time < ?'];
  const params: unknown[] = [q.from, q.to];
  if (q.cursor !== undefined) {
    const [t, id] = decodeCursor(q.cursor);
    where.push(desc ? '(e.time < ? OR (e.time = ? AND e.id < ?))' : '(e.time > ? OR (e.time = ? AND e.id > ?))');
    params.push(t, t, id);
  }
  const predicate = typeof q.filter === 'function' ? q.filter : undefined;
  if (q.filter && !predicate) {
    for (const [field, value] of Object.entries(q.filter as FieldFilter)) {
      const col = spec.columns.find((c) => c.name === field && c.kind !== 'json');
      if (!col) {
        throw new InvalidMonitorInput(`filter.${field}`, `is not a filterable field of ${q.family} events`, value);
      }
      const values = Array.isArray(value) ? value : [value];
      if (values.length === 0) throw new InvalidMonitorInput(`filter.${field}`, 'must list at least one value', value);
      if (value === null) {
        where.push(`${col.sql} IS NULL`);
        continue;
      }
      for (const v of values) {
        if (!['string', 'number', 'boolean'].includes(typeof v)) {
          throw new InvalidMonitorInput(`filter.${field}`, 'values must be strings, numbers or booleans', v);
        }
      }
      where.push(`${col.sql} IN (${values.map(() => '?').join(', ')})`);
      params.push(...values.map((v) => (typeof v === 'boolean' ? (v ? 1 : 0) : v)));
    }
  }
  const dir = desc ? 'DESC' : 'ASC';
  const sql =
    `SELECT ${selectList(spec.columns)}, '${q.family}' AS "family" FROM ${spec.table} e ` +
    `LEFT JOIN processes p ON p.id = e.process_id WHERE ${where.join(' AND ')} ` +
    `ORDER BY e.time ${dir}, e.id ${dir}` + (predicate ? '' : ' LIMIT ?');
  if (!predicate) params.push(q.limit + 1);

  const rows: EventRowByFamily[F][] = [];
  let more = false;
  for (const raw of prepared(conn, sql).iterate(...params) as Iterable<Record<string, unknown>>) {
    decodeRow(raw, spec.columns);
    const row = raw as unknown as EventRowByFamily[F];
    if (predicate && !predicate(row)) continue;
    if (rows.length === q.limit) {
      more = true;
      break;
    }
    rows.push(row);
  }
  const last = rows[rows.length - 1];
  return more && last ? { rows, nextCursor: encodeCursor(last.time, last.id) } : { rows };
}

export function processHistory(conn: Connection, q: ProcessHistoryQuery): ProcessHistoryEntry[] {
  checkTimeRange(q.from, q.to);
  if (q.pid === undefined && q.exe === undefined) throw new InvalidMonitorInput('pid', 'pid or exe is required', undefined);
  if (q.pid !== undefined && !Number.isSafeInteger(q.pid)) throw new InvalidMonitorInput('pid', 'must be an integer', q.pid);
  if (q.exe !== undefined && (typeof q.exe !== 'string' || q.exe === '')) throw new InvalidMonitorInput('exe', 'must be a non-empty string', q.exe);
  const limit = q.limit ?? 1000;
  if (!Number.isInteger(limit) || limit < 1 || limit > QUERY_LIMIT_MAX) {
    throw new InvalidMonitorInput('limit', `must be an integer from 1 to ${QUERY_LIMIT_MAX}`, limit);
  }
  const where = ['coalesce(start_time, first_seen) < ?', '(end_time IS NULL OR end_time >= ?)'];
  const params: unknown[] = [q.to, q.from];
  if (q.pid !== undefined) {
    where.push('pid = ?');
    params.push(q.pid);
  }
  if (q.exe !== undefined) {
    where.push('exe = ?');
    params.push(q.exe);
  }
  const processes = prepared(
    conn,
    `SELECT ${selectList(PROCESS_COLUMNS)} FROM processes WHERE ${where.join(' AND ')}
     ORDER BY coalesce(start_time, first_seen) DESC, id DESC LIMIT ?`,
  ).all(...params, limit) as Record<string, unknown>[];
  const samples = prepared(
    conn,
    `SELECT ${selectList(SAMPLE_COLUMNS)} FROM process_samples WHERE process_id = ? AND time >= ? AND time < ? ORDER BY time, id`,
  );
  const counts = prepared(
    conn,
    EVENT_FAMILIES.map(
      (f) => `SELECT '${f}' AS family, count(*) AS n FROM ${FAMILY_COLUMNS[f].table} WHERE process_id = ? AND time >= ? AND time < ?`,
    ).join(' UNION ALL '),
  );
  return processes.map((raw) => {
    decodeRow(raw, PROCESS_COLUMNS);
    const process = raw as unknown as ProcessRow;
    const eventCounts = Object.fromEntries(EVENT_FAMILIES.map((f) => [f, 0])) as Record<EventFamily, number>;
    const countParams = EVENT_FAMILIES.flatMap(() => [process.id, q.from, q.to]);
    for (const { family, n } of counts.all(...countParams) as { family: EventFamily; n: number }[]) eventCounts[family] = n;
    return {
      process,
      samples: samples.all(process.id, q.from, q.to) as ProcessSampleRow[],
      eventCounts,
    };
  });
}

export function countsByFamily(conn: Connection): Record<EventFamily, number> {
  const stmt = prepared(
    conn,
    EVENT_FAMILIES.map((f) => `SELECT '${f}' AS family, count(*) AS n FROM ${FAMILY_COLUMNS[f].table}`).join(' UNION ALL '),
  );
  const out = Object.fromEntries(EVENT_FAMILIES.map((f) => [f, 0])) as Record<EventFamily, number>;
  for (const { family, n } of stmt.all() as { family: EventFamily; n: number }[]) out[family] = n;
  return out;
}

/** Everything recorded about one path, renames to and from it included, oldest first. */
export function fileHistory(conn: Connection, q: FileHistoryQuery): EventRowByFamily['file'][] {
  if (typeof q.path !== 'string' || q.path === '') throw new InvalidMonitorInput('path', 'must be a non-empty string', q.path);
  checkTimeRange(q.from, q.to);
  if (!Number.isInteger(q.limit) || q.limit < 1 || q.limit > QUERY_LIMIT_MAX) {
    throw new InvalidMonitorInput('limit', `must be an integer from 1 to ${QUERY_LIMIT_MAX}`, q.limit);
  }
  const spec = FAMILY_COLUMNS.file;
  // UNION of two indexed lookups (path, old_path) rather than an OR that would scan the table.
  const select = `SELECT ${selectList(spec.columns)}, 'file' AS "family" FROM file_events e LEFT JOIN processes p ON p.id = e.process_id`;
  const rows = prepared(
    conn,
    `${select} WHERE e.path = @path AND e.time >= @from AND e.time < @to
     UNION
     ${select} WHERE e.old_path = @path AND e.time >= @from AND e.time < @to
     ORDER BY "time", "id" LIMIT @limit`,
  ).all({ path: q.path, from: q.from, to: q.to, limit: q.limit }) as Record<string, unknown>[];
  for (const row of rows) decodeRow(row, spec.columns);
  return rows as unknown as EventRowByFamily['file'][];
}
