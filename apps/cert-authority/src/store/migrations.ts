// ca.db schema: numbered, forward-only migrations keyed by PRAGMA user_version.
import type Database from 'better-sqlite3';

const MIGRATIONS: readonly string[] = [
  // 1: roots, certificates, revocations, enrolment tokens.
  `
  CREATE TABLE roots (
    id               TEXT PRIMARY KEY,          -- subject key identifier, hex
    serial           TEXT NOT NULL UNIQUE,      -- the root certificate's serial, hex (what the API shows)
    sequence         INTEGER NOT NULL UNIQUE,   -- creation order; the newest root issues
    certificate_pem  TEXT NOT NULL,
    key_file         TEXT NOT NULL,             -- file name under <dataDir>/keys (mode 0600), never the key itself
    not_before       INTEGER NOT NULL,
    not_after        INTEGER NOT NULL,
    created_at       INTEGER NOT NULL,
    retire_at        INTEGER                    -- set by a rotation: the root leaves the trust bundle then
  );
  CREATE TABLE certificates (
    serial              TEXT PRIMARY KEY,       -- hex
    kind                TEXT NOT NULL,
    common_name         TEXT NOT NULL,
    subject_name        TEXT NOT NULL,          -- endpoint id (client id), service name, zone proxy name, or the CN
    label               TEXT NOT NULL,          -- free label: endpoint host name, zone proxy name...
    dns_names           TEXT NOT NULL,          -- JSON array
    ip_addresses        TEXT NOT NULL,          -- JSON array
    uris                TEXT NOT NULL,          -- JSON array
    purpose             TEXT NOT NULL,
    issuer_root_id      TEXT NOT NULL REFERENCES roots(id),
    not_before          INTEGER NOT NULL,
    not_after           INTEGER NOT NULL,
    issued_at           INTEGER NOT NULL,
    certificate_pem     TEXT NOT NULL,
    renewed_from        TEXT REFERENCES certificates(serial),
    enrolment_token_id  TEXT
  );
  CREATE INDEX certificates_by_issue ON certificates (issued_at, serial);
  CREATE INDEX certificates_by_subject ON certificates (kind, subject_name);
  CREATE TABLE revocations (
    serial      TEXT PRIMARY KEY REFERENCES certificates(serial),
    reason      TEXT NOT NULL,
    revoked_at  INTEGER NOT NULL,
    generation  INTEGER NOT NULL UNIQUE     -- the revocation list's generation this entry first appeared in
  );
  CREATE TABLE enrolment_tokens (
    id             TEXT PRIMARY KEY,
    secret_sha256  BLOB NOT NULL,
    kind           TEXT NOT NULL,           -- one-time | time-limited
    endpoint_id    TEXT,                    -- NULL: the CA assigns a fresh endpoint id per enrolment
    label          TEXT NOT NULL,
    max_uses       INTEGER NOT NULL,        -- 0: unlimited (time-limited tokens)
    uses           INTEGER NOT NULL DEFAULT 0,
    last_used_at   INTEGER,
    created_at     INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL,
    revoked_at     INTEGER
  );
  `,
];

/** Applies the migrations the database has not seen yet, each in its own transaction. */
export function migrate(db: Database.Database): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > MIGRATIONS.length) {
    throw new Error(`ca.db has schema version ${current}, newer than this cert-authority knows (${MIGRATIONS.length}); upgrade the service`);
  }
  for (let v = current; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]!);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}

export const SCHEMA_VERSION = MIGRATIONS.length;
