// One open monitor.db: pragmas, migrations and every prepared statement, built once per open
// (the database is reopened after an archive or a recreate, which builds a new Connection).
import { closeSync, existsSync, openSync } from 'node:fs';
import Database from 'better-sqlite3';
import { isCorruption, MonitorDbCorrupt, MonitorDbTooNew } from './errors';
import { MIGRATIONS, SCHEMA_VERSION } from './schema/migrations';

export type Db = Database.Database;
type Stmt = Database.Statement;

/** Cap on the WAL file kept after a checkpoint, so an idle WAL does not hold disk (SPEC 2.9). */
const JOURNAL_SIZE_LIMIT_BYTES = 64 * 1024 * 1024;

/** How long a write waits for another connection's lock (e.g. an operator's sqlite3 shell). */
const BUSY_TIMEOUT_MS = 2000;

/** @internal Prepared statements of one connection. */
export interface Statements {
  upsertProcess: Stmt;
  adoptInferred: Stmt;
  findProcessExact: Stmt;
  findProcessAt: Stmt;
  hasLaterStart: Stmt;
  findInferred: Stmt;
  insertInferred: Stmt;
  endProcess: Stmt;
  insertProcessEvent: Stmt;
  insertFile: Stmt;
  insertNetwork: Stmt;
  insertSecurity: Stmt;
  insertDns: Stmt;
  insertRegistry: Stmt;
  insertImage: Stmt;
  insertSample: Stmt;
  insertSignalMatch: Stmt;
  trimSignalMatches: Stmt;
  getMeta: Stmt;
  setMeta: Stmt;
  addCounter: Stmt;
  deleteSignalDefinitions: Stmt;
  insertSignalDefinition: Stmt;
  pageCount: Stmt;
  freelistCount: Stmt;
}

function insert(db: Db, table: string, columns: readonly string[]): Stmt {
  return db.prepare(
    `INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map((c) => '@' + c).join(', ')})`,
  );
}

const EVENT = ['time', 'process_id', 'pid', 'uid', 'user', 'details'] as const;

function prepare(db: Db): Statements {
  const processColumns = [
    'pid', 'ppid', 'start_time', 'exe', 'argv', 'cwd', 'uid', 'euid', 'auid', 'user', 'session_id',
    'tty', 'comm', 'exe_sha256', 'parent_id', 'first_seen',
  ];
  const refreshed = processColumns
    .filter((c) => c !== 'pid' && c !== 'start_time' && c !== 'first_seen')
    .map((c) => `${c} = coalesce(excluded.${c}, ${c})`)
    .join(', ');
  return {
    upsertProcess: db.prepare(
      `INSERT INTO processes (${processColumns.join(', ')}, inferred)
       VALUES (${processColumns.map((c) => '@' + c).join(', ')}, 0)
       ON CONFLICT (pid, start_time) DO UPDATE SET ${refreshed}, inferred = 0
       RETURNING id`,
    ),
    adoptInferred: db.prepare(
      `UPDATE processes SET start_time = @start_time, ${processColumns
        .filter((c) => c !== 'pid' && c !== 'start_time' && c !== 'first_seen')
        .map((c) => `${c} = coalesce(@${c}, ${c})`)
        .join(', ')}, inferred = 0 WHERE id = @id`,
    ),
    findProcessExact: db.prepare('SELECT id, end_time FROM processes WHERE pid = ? AND start_time = ?'),
    findProcessAt: db.prepare(
      'SELECT id, start_time, end_time FROM processes WHERE pid = ? AND start_time <= ? ORDER BY start_time DESC LIMIT 1',
    ),
    hasLaterStart: db.prepare('SELECT 1 FROM processes WHERE pid = ? AND start_time > ? LIMIT 1').pluck(),
    findInferred: db.prepare(
      'SELECT id, first_seen FROM processes WHERE pid = ? AND start_time IS NULL AND end_time IS NULL ORDER BY id DESC LIMIT 1',
    ),
    insertInferred: db.prepare(
      `INSERT INTO processes (pid, ppid, start_time, exe, comm, uid, user, first_seen, inferred)
       VALUES (@pid, @ppid, @start_time, @exe, @comm, @uid, @user, @first_seen, 1) RETURNING id`,
    ),
    endProcess: db.prepare('UPDATE processes SET end_time = ?, exit_code = coalesce(?, exit_code) WHERE id = ?'),
    insertProcessEvent: insert(db, 'process_events', [...EVENT, 'operation', 'exit_code']),
    insertFile: insert(db, 'file_events', [...EVENT, 'operation', 'path', 'old_path', 'mode', 'owner_uid', 'owner_gid', 'success']),
    insertNetwork: insert(db, 'network_events', [
      ...EVENT, 'direction', 'protocol', 'address_family', 'local_address', 'local_port', 'remote_address', 'remote_port', 'success',
    ]),
    insertSecurity: insert(db, 'security_events', [
      ...EVENT, 'type', 'account', 'result', 'terminal', 'remote_address', 'hostname', 'method',
    ]),
    insertDns: insert(db, 'dns_events', [...EVENT, 'operation', 'query', 'query_type', 'response', 'status']),
    insertRegistry: insert(db, 'registry_events', [...EVENT, 'operation', 'key', 'value_name', 'value_data', 'old_key']),
    insertImage: insert(db, 'image_loads', [...EVENT, 'image_type', 'path', 'sha256', 'signed']),
    insertSample: insert(db, 'process_samples', [
      'time', 'process_id', 'pid', 'cpu_percent', 'rss_bytes', 'vms_bytes', 'threads', 'read_bytes', 'write_bytes', 'open_files',
    ]),
    insertSignalMatch: insert(db, 'signal_matches', ['time', 'signal_name', 'family', 'event_id', 'process_id']),
    trimSignalMatches: db.prepare(
      `DELETE FROM signal_matches WHERE signal_name = @name AND id NOT IN
         (SELECT id FROM signal_matches WHERE signal_name = @name ORDER BY time DESC, id DESC LIMIT @keep)`,
    ),
    getMeta: db.prepare('SELECT value FROM meta WHERE key = ?').pluck(),
    setMeta: db.prepare(
      `INSERT INTO meta (key, value, updated_at) VALUES (?, ?, ?)
       ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
    ),
    addCounter: db.prepare(
      `INSERT INTO meta (key, value, updated_at) VALUES (@key, CAST(CAST(@n AS INTEGER) AS TEXT), @now)
       ON CONFLICT (key) DO UPDATE SET value = CAST(CAST(value AS INTEGER) + CAST(@n AS INTEGER) AS TEXT), updated_at = @now`,
    ),
    deleteSignalDefinitions: db.prepare('DELETE FROM signal_definitions'),
    insertSignalDefinition: insert(db, 'signal_definitions', ['name', 'severity', 'definition', 'recorded_at']),
    pageCount: db.prepare('PRAGMA page_count').pluck(),
    freelistCount: db.prepare('PRAGMA freelist_count').pluck(),
  };
}

function migrate(db: Db, path: string): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > SCHEMA_VERSION) throw new MonitorDbTooNew(path, current, SCHEMA_VERSION);
  for (const m of MIGRATIONS) {
    if (m.version <= current) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.pragma(`user_version = ${m.version}`);
    })();
  }
}

/** @internal An open, migrated monitor.db with its statements. */
export class Connection {
  readonly db: Db;
  readonly stmts: Statements;

  constructor(readonly path: string) {
    // monitor.db is forensic evidence: readable by its owner only. SQLite gives -wal/-shm the same mode.
    if (path !== ':memory:' && !existsSync(path)) closeSync(openSync(path, 'a', 0o600));
    const db = new Database(path, { timeout: BUSY_TIMEOUT_MS });
    try {
      // Must precede the first table: lets retention hand freed pages back to the file system
      // with PRAGMA incremental_vacuum instead of a full VACUUM that needs 2x the space.
      db.pragma('auto_vacuum = INCREMENTAL');
      db.pragma('journal_mode = WAL');
      // WAL + NORMAL: a commit is an append to the WAL without fsync; the WAL is synced at
      // checkpoints. A killed recorder loses nothing committed (the OS holds the pages) and the
      // file never corrupts; a power cut may lose the last few batches — acceptable for a
      // recorder, and it removes an fsync per batch (SPEC 2.9: CPU below 1%).
      db.pragma('synchronous = NORMAL');
      db.pragma('foreign_keys = ON');
      db.pragma(`journal_size_limit = ${JOURNAL_SIZE_LIMIT_BYTES}`);
      migrate(db, path);
      this.stmts = prepare(db);
    } catch (err) {
      db.close();
      if (isCorruption(err)) throw new MonitorDbCorrupt(path, err);
      throw err;
    }
    this.db = db;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
