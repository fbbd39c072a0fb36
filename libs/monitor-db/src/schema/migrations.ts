// monitor.db schema: numbered, forward-only migrations keyed by PRAGMA user_version (SPEC 2.2).
//
// Every statement here must run on the sqlite3 shell an operator has (Debian's 3.40), not only
// on the newer SQLite bundled in better-sqlite3: no `->>`, no jsonb, no STRICT-only features.
// Times are epoch milliseconds (INTEGER); JSON lives in TEXT columns (argv, details).

/** One schema step. `sql` runs inside a transaction with user_version set to `version`. */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

/** Columns every event-family table shares: when, which process row, and user context. */
const EVENT_COLUMNS = `
  id          INTEGER PRIMARY KEY,
  time        INTEGER NOT NULL,
  process_id  INTEGER REFERENCES processes(id) ON DELETE SET NULL,
  pid         INTEGER,
  uid         INTEGER,
  user        TEXT,
  details     TEXT`;

const TABLES_V1 = `
CREATE TABLE meta (
  key        TEXT PRIMARY KEY,
  value      TEXT,
  updated_at INTEGER NOT NULL
);

-- One row per process image the recorder has seen, identified by (pid, start_time). Rows
-- inferred from an event without a start record have start_time NULL and inferred = 1.
CREATE TABLE processes (
  id          INTEGER PRIMARY KEY,
  pid         INTEGER NOT NULL,
  ppid        INTEGER,
  start_time  INTEGER,
  end_time    INTEGER,
  exit_code   INTEGER,
  exe         TEXT,
  argv        TEXT,
  cwd         TEXT,
  uid         INTEGER,
  euid        INTEGER,
  auid        INTEGER,
  user        TEXT,
  session_id  INTEGER,
  tty         TEXT,
  comm        TEXT,
  exe_sha256  TEXT,
  parent_id   INTEGER REFERENCES processes(id) ON DELETE SET NULL,
  first_seen  INTEGER NOT NULL,
  inferred    INTEGER NOT NULL DEFAULT 0 CHECK (inferred IN (0, 1))
);
CREATE UNIQUE INDEX processes_pid_start ON processes(pid, start_time);
CREATE INDEX processes_start_time ON processes(start_time);
CREATE INDEX processes_exe ON processes(exe);
CREATE INDEX processes_parent ON processes(parent_id);

CREATE TABLE process_events (${EVENT_COLUMNS},
  operation   TEXT NOT NULL CHECK (operation IN ('exec', 'fork', 'exit')),
  exit_code   INTEGER
);

CREATE TABLE file_events (${EVENT_COLUMNS},
  operation   TEXT NOT NULL CHECK (operation IN
                ('create', 'write', 'delete', 'rename', 'chmod', 'chown', 'link', 'symlink',
                 'mkdir', 'rmdir', 'truncate', 'setxattr', 'read', 'open')),
  path        TEXT NOT NULL,
  old_path    TEXT,
  mode        INTEGER,
  owner_uid   INTEGER,
  owner_gid   INTEGER,
  success     INTEGER CHECK (success IN (0, 1))
);
CREATE INDEX file_events_path ON file_events(path, time);
CREATE INDEX file_events_old_path ON file_events(old_path) WHERE old_path IS NOT NULL;

CREATE TABLE network_events (${EVENT_COLUMNS},
  direction      TEXT NOT NULL CHECK (direction IN ('connect', 'accept', 'bind', 'listen')),
  protocol       TEXT NOT NULL,
  address_family TEXT,
  local_address  TEXT,
  local_port     INTEGER,
  remote_address TEXT,
  remote_port    INTEGER,
  success        INTEGER CHECK (success IN (0, 1))
);
CREATE INDEX network_events_remote ON network_events(remote_address, remote_port);

CREATE TABLE security_events (${EVENT_COLUMNS},
  type           TEXT NOT NULL CHECK (type IN
                   ('authentication', 'login', 'logout', 'privilege_change', 'account_change')),
  account        TEXT,
  result         TEXT NOT NULL CHECK (result IN ('success', 'failure')),
  terminal       TEXT,
  remote_address TEXT,
  hostname       TEXT,
  method         TEXT
);

CREATE TABLE dns_events (${EVENT_COLUMNS},
  operation   TEXT NOT NULL,
  query       TEXT NOT NULL,
  query_type  TEXT,
  response    TEXT,
  status      TEXT
);

CREATE TABLE registry_events (${EVENT_COLUMNS},
  operation   TEXT NOT NULL CHECK (operation IN
                ('create_key', 'delete_key', 'rename_key', 'set_value', 'delete_value')),
  key         TEXT NOT NULL,
  value_name  TEXT,
  value_data  TEXT,
  old_key     TEXT
);

CREATE TABLE image_loads (${EVENT_COLUMNS},
  image_type  TEXT NOT NULL CHECK (image_type IN ('library', 'driver')),
  path        TEXT NOT NULL,
  sha256      TEXT,
  signed      INTEGER CHECK (signed IN (0, 1))
);

-- Per-process resource samples for the Performance integration.
CREATE TABLE process_samples (
  id           INTEGER PRIMARY KEY,
  time         INTEGER NOT NULL,
  process_id   INTEGER REFERENCES processes(id) ON DELETE SET NULL,
  pid          INTEGER NOT NULL,
  cpu_percent  REAL NOT NULL,
  rss_bytes    INTEGER NOT NULL,
  vms_bytes    INTEGER,
  threads      INTEGER,
  read_bytes   INTEGER,
  write_bytes  INTEGER,
  open_files   INTEGER
);

-- Compiled signal (detection) definitions (RecordSignalDefinitions, SPEC 2.6).
CREATE TABLE signal_definitions (
  id           INTEGER PRIMARY KEY,
  name         TEXT NOT NULL UNIQUE,
  severity     TEXT,
  definition   TEXT NOT NULL,
  recorded_at  INTEGER NOT NULL
);

-- The latest matches per signal, bounded by RecordSignalMatches (SPEC 2.6). event_id points
-- into the family's table; it is not a foreign key because the target table varies.
CREATE TABLE signal_matches (
  id           INTEGER PRIMARY KEY,
  time         INTEGER NOT NULL,
  signal_name  TEXT NOT NULL,
  family       TEXT NOT NULL,
  event_id     INTEGER NOT NULL,
  process_id   INTEGER REFERENCES processes(id) ON DELETE SET NULL
);
CREATE INDEX signal_matches_signal ON signal_matches(signal_name, time);
`;

/** Tables that hold one event family each, in the order the timeline lists them. */
export const FAMILY_TABLES = {
  process: 'process_events',
  file: 'file_events',
  network: 'network_events',
  security: 'security_events',
  dns: 'dns_events',
  registry: 'registry_events',
  image: 'image_loads',
} as const;

/** Every table whose rows age out by `time` (MonitorDays, size cleanup). */
export const TIMED_TABLES = [...Object.values(FAMILY_TABLES), 'process_samples', 'signal_matches'] as const;

function timeAndProcessIndexes(): string {
  return TIMED_TABLES.map(
    (t) => `CREATE INDEX ${t}_time ON ${t}(time);\nCREATE INDEX ${t}_process ON ${t}(process_id);`,
  ).join('\n');
}

// Views are what an operator queries from the sqlite3 shell (SPEC 2.2 "virtual tables").
const VIEWS_V1 = `
-- Every process with its depth and ancestry (pids from the root down), following parent_id.
CREATE VIEW v_process_tree AS
WITH RECURSIVE tree(id, root_id, depth, ancestry) AS (
  SELECT id, id, 0, CAST(pid AS TEXT) FROM processes WHERE parent_id IS NULL
  UNION ALL
  SELECT c.id, tree.root_id, tree.depth + 1, tree.ancestry || ' > ' || c.pid
  FROM processes c JOIN tree ON c.parent_id = tree.id
)
SELECT p.id AS process_id, p.pid, p.ppid, p.parent_id, tree.root_id, tree.depth, tree.ancestry,
       p.exe, p.argv, p.user, p.uid, p.start_time, p.end_time, p.exit_code, p.exe_sha256
FROM tree JOIN processes p ON p.id = tree.id;

-- One timeline across all families: what happened, when, by which process.
CREATE VIEW v_timeline AS
SELECT t.time, t.family, t.event_id, t.process_id, t.pid, p.exe,
       coalesce(t.user, p.user) AS user, t.operation,
       -- process events: the executable and its command line
       coalesce(t.subject, p.exe) AS subject,
       coalesce(t.detail, CASE WHEN t.family = 'process' THEN p.argv END) AS detail
FROM (
  SELECT time, 'process' AS family, id AS event_id, process_id, pid, user, operation,
         NULL AS subject, CASE WHEN exit_code IS NOT NULL THEN 'exit code ' || exit_code END AS detail
  FROM process_events
  UNION ALL
  SELECT time, 'file', id, process_id, pid, user, operation, path, old_path FROM file_events
  UNION ALL
  SELECT time, 'network', id, process_id, pid, user, direction,
         coalesce(remote_address || ':' || remote_port, remote_address, local_address || ':' || local_port),
         protocol FROM network_events
  UNION ALL
  SELECT time, 'security', id, process_id, pid, user, type, account,
         result || coalesce(' from ' || remote_address, '') || coalesce(' on ' || terminal, '')
  FROM security_events
  UNION ALL
  SELECT time, 'dns', id, process_id, pid, user, operation, query, response FROM dns_events
  UNION ALL
  SELECT time, 'registry', id, process_id, pid, user, operation, key, value_name FROM registry_events
  UNION ALL
  SELECT time, 'image', id, process_id, pid, user, image_type, path, sha256 FROM image_loads
) t
LEFT JOIN processes p ON p.id = t.process_id
ORDER BY t.time, t.family, t.event_id;

-- Everything one process did: WHERE process_id = ... (indexed; take it from v_process_tree),
-- or WHERE pid = ... / exe = ... (scans).
CREATE VIEW v_process_activity AS
SELECT t.process_id, t.pid, p.exe, p.argv, p.start_time AS process_start_time,
       p.end_time AS process_end_time, t.time, t.family, t.event_id, t.user, t.operation,
       t.subject, t.detail
FROM v_timeline t LEFT JOIN processes p ON p.id = t.process_id
ORDER BY t.time, t.family, t.event_id;

-- Who this endpoint talked to: one row per remote peer, direction and protocol.
CREATE VIEW v_network_peers AS
SELECT e.remote_address, e.remote_port, e.protocol, e.direction,
       count(*) AS connections, min(e.time) AS first_seen, max(e.time) AS last_seen,
       count(DISTINCT e.process_id) AS processes, group_concat(DISTINCT p.exe) AS exes
FROM network_events e LEFT JOIN processes p ON p.id = e.process_id
WHERE e.remote_address IS NOT NULL
GROUP BY e.remote_address, e.remote_port, e.protocol, e.direction;

-- The history of a path; a rename appears under both its old path and its new one.
CREATE VIEW v_file_history AS
SELECT h.path, h.time, h.operation, h.other_path, h.event_id, h.process_id, h.pid, p.exe,
       coalesce(h.user, p.user) AS user, h.success
FROM (
  SELECT path, time, operation, old_path AS other_path, id AS event_id, process_id, pid, user, success
  FROM file_events
  UNION ALL
  SELECT old_path, time, 'renamed_away', path, id, process_id, pid, user, success
  FROM file_events WHERE old_path IS NOT NULL
) h
LEFT JOIN processes p ON p.id = h.process_id
ORDER BY h.path, h.time, h.event_id;
`;

/** All migrations, in order. Append only; never edit a released one. */
export const MIGRATIONS: readonly Migration[] = [
  { version: 1, name: 'event families, processes, samples, signals, meta, views', sql: TABLES_V1 + timeAndProcessIndexes() + VIEWS_V1 },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;

/** Views an operator can rely on; integrity checks confirm they exist. */
export const VIEWS = ['v_process_tree', 'v_timeline', 'v_process_activity', 'v_network_peers', 'v_file_history'] as const;
