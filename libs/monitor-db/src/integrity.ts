// The status check behind "Recreate Database" (SPEC 2.10): is monitor.db a sound database with
// our schema? Structured result, never a throw for a damaged file.
import { existsSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import type { Db } from './connection';
import { FAMILY_TABLES, SCHEMA_VERSION, VIEWS } from './schema/migrations';

export interface IntegrityResult {
  ok: boolean;
  /** Human-readable findings; empty when ok. */
  problems: string[];
  /** True when SQLite itself reports damage (the database should be recreated). */
  corrupt: boolean;
  schemaVersion: number | null;
  durationMs: number;
}

export interface IntegrityOptions {
  /** PRAGMA integrity_check (reads every page and index) instead of the faster quick_check. */
  full?: boolean;
}

const REQUIRED_TABLES = ['meta', 'processes', 'process_samples', 'signal_definitions', 'signal_matches', ...Object.values(FAMILY_TABLES)];

/** Checks an open connection. */
export function checkDatabase(db: Db, options: IntegrityOptions = {}): IntegrityResult {
  const started = performance.now();
  const problems: string[] = [];
  let corrupt = false;
  let schemaVersion: number | null = null;
  try {
    const pragma = options.full ? 'integrity_check(100)' : 'quick_check(100)';
    for (const message of db.pragma(pragma, { simple: false }) as Record<string, string>[]) {
      const text = Object.values(message)[0];
      if (text !== 'ok') {
        corrupt = true;
        problems.push(`sqlite: ${text}`);
      }
    }
    schemaVersion = db.pragma('user_version', { simple: true }) as number;
    if (schemaVersion !== SCHEMA_VERSION) problems.push(`schema version is ${schemaVersion}, expected ${SCHEMA_VERSION}`);
    const present = new Set(
      (db.prepare("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')").all() as { name: string }[]).map((r) => r.name),
    );
    for (const name of [...REQUIRED_TABLES, ...VIEWS]) if (!present.has(name)) problems.push(`missing ${name}`);
    if (!corrupt && problems.length === 0) {
      for (const fk of db.pragma('foreign_key_check') as { table: string; rowid: number; parent: string }[]) {
        problems.push(`${fk.table} row ${fk.rowid} references a missing ${fk.parent} row`);
        if (problems.length >= 100) break;
      }
    }
  } catch (err) {
    corrupt = true;
    problems.push(`sqlite: ${(err as { code?: string }).code ?? 'error'}: ${(err as Error).message}`);
  }
  return { ok: problems.length === 0, problems, corrupt, schemaVersion, durationMs: performance.now() - started };
}

/** Checks a monitor.db file without migrating or otherwise changing it (read-only open). */
export function checkMonitorDbFile(path: string, options: IntegrityOptions = {}): IntegrityResult {
  let db: Db;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
  } catch (err) {
    return { ok: false, problems: [`cannot open ${path}: ${(err as Error).message}`], corrupt: existsSync(path), schemaVersion: null, durationMs: 0 };
  }
  try {
    return checkDatabase(db, options);
  } finally {
    db.close();
  }
}
