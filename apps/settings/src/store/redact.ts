// Secret redaction for the audit log and the watch stream: secrets never leave the store in clear.

/** Property names whose values are secrets, wherever they appear in a stored document. */
const SECRET_KEYS = new Set([
  'provisionSecret',
  'enrolmentToken',
  'tokenHash',
  'token',
  'secret',
  'password',
  'privateKey',
]);

export const REDACTED = '[redacted]';

/** A deep copy of `value` with every secret property replaced by "[redacted]". */
export function redactSecrets<T>(value: T): T {
  if (Array.isArray(value)) return value.map((v) => redactSecrets(v)) as T;
  if (value === null || typeof value !== 'object' || value instanceof Date) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    out[k] = SECRET_KEYS.has(k) && v !== undefined && v !== null && v !== '' ? REDACTED : redactSecrets(v);
  }
  return out as T;
}
