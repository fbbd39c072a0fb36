// Typed errors of monitor.db: one class per condition, each with its readonly context.

/** Base of every error this library throws on purpose. */
export class MonitorDbError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Thrown when a record or option handed to the library breaks a rule; names field, rule and value. */
export class InvalidMonitorInput extends MonitorDbError {
  constructor(
    readonly field: string,
    readonly rule: string,
    readonly value: unknown,
  ) {
    super(`${field} ${describe(value)}: ${rule}`);
  }
}

/** Thrown when monitor.db is not a database or SQLite reports it corrupt (SPEC 2.10: recreate it). */
export class MonitorDbCorrupt extends MonitorDbError {
  constructor(
    readonly path: string,
    cause: unknown,
  ) {
    super(`monitor.db at ${path} is corrupt or not a database: ${(cause as Error)?.message ?? String(cause)}`, { cause });
  }
}

/** Thrown when monitor.db was written by a newer schema than this build knows (no downgrades). */
export class MonitorDbTooNew extends MonitorDbError {
  constructor(
    readonly path: string,
    readonly found: number,
    readonly supported: number,
  ) {
    super(`monitor.db at ${path} has schema version ${found}; this recorder supports up to ${supported}`);
  }
}

/** Thrown when an operation needs an open database but it was closed. */
export class MonitorDbClosed extends MonitorDbError {
  constructor(readonly path: string) {
    super(`monitor.db at ${path} is closed`);
  }
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 80 ? value.slice(0, 80) + '…' : value);
  if (value === undefined) return '(missing)';
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

const CORRUPT_CODES = new Set(['SQLITE_CORRUPT', 'SQLITE_NOTADB', 'SQLITE_CORRUPT_INDEX', 'SQLITE_CORRUPT_SEQUENCE', 'SQLITE_CORRUPT_VTAB']);

/** True when a better-sqlite3 error means the file is damaged rather than the call wrong. */
export function isCorruption(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' && (CORRUPT_CODES.has(code) || code.startsWith('SQLITE_CORRUPT'));
}
