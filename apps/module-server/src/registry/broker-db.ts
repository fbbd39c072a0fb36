// broker.db: the broker's own SQLite store (endpoint registry, sessions, events, alerts), with
// numbered forward-only migrations keyed by PRAGMA user_version (STYLE: Data).
import Database from 'better-sqlite3';

export type BrokerDb = Database.Database;

export const MIGRATIONS: readonly string[] = [
  // 1: endpoint registry, events, alerts, sessions
  `
  CREATE TABLE endpoints (
    client_id              TEXT PRIMARY KEY,
    hostname               TEXT NOT NULL DEFAULT '',
    ips                    TEXT NOT NULL DEFAULT '[]',
    os                     TEXT NOT NULL DEFAULT '',
    agent_version          TEXT NOT NULL DEFAULT '',
    tools_version          TEXT NOT NULL DEFAULT '',
    action_lock            INTEGER NOT NULL DEFAULT 0,
    recorder_status        TEXT NOT NULL DEFAULT '',
    enrolment              TEXT NOT NULL,
    enrolment_detail       TEXT,
    status                 TEXT NOT NULL,
    route                  TEXT NOT NULL DEFAULT 'direct',
    enrolled_at            INTEGER,
    cert_serial            TEXT,
    cert_not_after         INTEGER,
    first_connected_at     INTEGER,
    connected_at           INTEGER,
    last_heartbeat_at      INTEGER,
    status_since           INTEGER NOT NULL,
    last_disconnect_at     INTEGER,
    last_disconnect_reason TEXT,
    last_disconnect_detail TEXT,
    clock_skew_ms          INTEGER,
    last_tls_failure_at    INTEGER,
    last_tls_failure_cause TEXT,
    last_tls_failure_detail TEXT
  );
  CREATE INDEX endpoints_hostname ON endpoints(hostname COLLATE NOCASE);
  CREATE TABLE events (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    at        INTEGER NOT NULL,
    kind      TEXT NOT NULL,
    client_id TEXT,
    message   TEXT NOT NULL,
    data      TEXT NOT NULL DEFAULT '{}'
  );
  CREATE INDEX events_at ON events(at);
  CREATE TABLE alerts (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    client_id  TEXT NOT NULL,
    kind       TEXT NOT NULL,
    raised_at  INTEGER NOT NULL,
    cleared_at INTEGER,
    message    TEXT NOT NULL
  );
  CREATE UNIQUE INDEX alerts_open ON alerts(client_id, kind) WHERE cleared_at IS NULL;
  CREATE TABLE sessions (
    session_id      TEXT PRIMARY KEY,
    client_id       TEXT NOT NULL,
    module          TEXT NOT NULL,
    requested_by    TEXT NOT NULL,
    action_status   TEXT NOT NULL,
    session_status  TEXT NOT NULL,
    status_detail   TEXT NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,
    attached_at     INTEGER,
    closed_at       INTEGER,
    last_message_at INTEGER
  );
  CREATE INDEX sessions_client ON sessions(client_id);
  `,
  // 2: the Open Session action id and the session's idle timeout and request count
  `
  ALTER TABLE sessions ADD COLUMN action_id TEXT NOT NULL DEFAULT '';
  ALTER TABLE sessions ADD COLUMN idle_timeout_ms INTEGER NOT NULL DEFAULT 600000;
  ALTER TABLE sessions ADD COLUMN requests_completed INTEGER NOT NULL DEFAULT 0;
  `,
  // 3: who acknowledged or cleared an alert, when, and the note they gave
  `
  ALTER TABLE alerts ADD COLUMN acknowledged_at INTEGER;
  ALTER TABLE alerts ADD COLUMN acknowledged_by TEXT NOT NULL DEFAULT '';
  ALTER TABLE alerts ADD COLUMN cleared_by TEXT NOT NULL DEFAULT '';
  ALTER TABLE alerts ADD COLUMN note TEXT NOT NULL DEFAULT '';
  `,
  // 4: the content revision each endpoint reports, and its Configure Extension deployment
  `
  ALTER TABLE endpoints ADD COLUMN configuration_revision INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE endpoints ADD COLUMN configure_action_id TEXT;
  ALTER TABLE endpoints ADD COLUMN configure_revision INTEGER;
  ALTER TABLE endpoints ADD COLUMN configure_status TEXT;
  ALTER TABLE endpoints ADD COLUMN configure_detail TEXT;
  ALTER TABLE endpoints ADD COLUMN configure_updated_at INTEGER;
  `,
  // 5: the last Goodbye an endpoint sent (why it left on purpose), and the uninstall record
  // (SPEC 1.7.4) with one row per endpoint asked to remove its tools
  `
  ALTER TABLE endpoints ADD COLUMN goodbye_reason TEXT;
  ALTER TABLE endpoints ADD COLUMN goodbye_at INTEGER;
  CREATE TABLE uninstall (
    id                   INTEGER PRIMARY KEY CHECK (id = 1),
    phase                TEXT NOT NULL,
    started_at           INTEGER NOT NULL,
    finished_at          INTEGER,
    endpoint_timeout_ms  INTEGER NOT NULL,
    remove_recorder_data INTEGER NOT NULL DEFAULT 0,
    started_by           TEXT NOT NULL DEFAULT '',
    warnings             TEXT NOT NULL DEFAULT '[]',
    detail               TEXT NOT NULL DEFAULT ''
  );
  CREATE TABLE uninstall_targets (
    client_id  TEXT PRIMARY KEY,
    os         TEXT NOT NULL DEFAULT '',
    action_id  TEXT,
    outcome    TEXT NOT NULL DEFAULT 'PENDING',
    detail     TEXT NOT NULL DEFAULT '',
    updated_at INTEGER NOT NULL
  );
  `,
];

/** Opens (creating if needed) broker.db and brings its schema to the latest version. */
export function openBrokerDb(path: string): BrokerDb {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  migrate(db);
  return db;
}

export function migrate(db: BrokerDb): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > MIGRATIONS.length) {
    throw new Error(`broker.db schema version ${current} is newer than this module server knows (${MIGRATIONS.length}); upgrade the module server`);
  }
  for (let v = current; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}
