// Forward-only schema migrations of settings.db, keyed by PRAGMA user_version.
import type Database from 'better-sqlite3';

/** Migration N (1-based) brings the schema from user_version N-1 to N. Never edit a shipped one. */
export const MIGRATIONS: ReadonlyArray<(db: Database.Database) => void> = [
  (db) => {
    db.exec(`
      -- Every setting is one JSON document, addressed by (kind, key); revision = last change.
      CREATE TABLE documents (
        kind       TEXT NOT NULL,
        key        TEXT NOT NULL,
        value      TEXT NOT NULL,
        revision   INTEGER NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (kind, key)
      ) STRICT;
      -- One row per change or audited operation; its rowid is the store's single revision counter.
      CREATE TABLE audit_log (
        revision     INTEGER PRIMARY KEY AUTOINCREMENT,
        at           TEXT NOT NULL,
        actor        TEXT NOT NULL,
        principal_id TEXT NOT NULL DEFAULT '',
        operation    TEXT NOT NULL DEFAULT '',
        kind         TEXT NOT NULL,
        key          TEXT NOT NULL,
        action       TEXT NOT NULL CHECK (action IN ('create', 'update', 'delete', 'event')),
        outcome      TEXT NOT NULL DEFAULT 'SUCCEEDED' CHECK (outcome IN ('SUCCEEDED', 'DENIED', 'FAILED')),
        component    TEXT NOT NULL DEFAULT 'settings',
        peer         TEXT NOT NULL DEFAULT '',
        detail       TEXT NOT NULL DEFAULT '',
        before       TEXT,
        after        TEXT
      ) STRICT;
      CREATE INDEX audit_log_at ON audit_log (at);
      CREATE INDEX audit_log_kind ON audit_log (kind, revision);
      -- API tokens: only the SHA-256 of the secret is kept.
      CREATE TABLE tokens (
        id           TEXT PRIMARY KEY,
        user_name    TEXT NOT NULL,
        token_hash   BLOB NOT NULL,
        description  TEXT NOT NULL,
        created_at   TEXT NOT NULL,
        expires_at   TEXT,
        revoked_at   TEXT,
        last_used_at TEXT
      ) STRICT;
      CREATE INDEX tokens_user ON tokens (user_name);
      CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
      -- Built endpoint packages: secrets inside (enrolment token), so kept out of documents and the audit log.
      CREATE TABLE content_packages (
        build_id      TEXT NOT NULL,
        os            TEXT NOT NULL,
        file_name     TEXT NOT NULL,
        sha256        TEXT NOT NULL,
        configuration TEXT NOT NULL,
        content       BLOB NOT NULL,
        PRIMARY KEY (build_id, os)
      ) STRICT;
    `);
  },
];

/** Applies every migration newer than the database's user_version, each in its own transaction. */
export function migrate(db: Database.Database): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > MIGRATIONS.length) {
    throw new Error(
      `settings.db schema version ${current} is newer than this build knows (${MIGRATIONS.length}); refusing to open it`,
    );
  }
  for (let v = current; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      MIGRATIONS[v](db);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}
