// A small JSON reader that records every issue with its JSON path instead of stopping at the first.
import { FilterValidationError, type ValidationIssue } from '../errors';

/** Collects issues while a document is read; `finish` throws them all at once. */
export class IssueList {
  readonly issues: ValidationIssue[] = [];

  add(path: string, rule: string, value?: unknown): void {
    this.issues.push(arguments.length >= 3 ? { path, rule, value } : { path, rule });
  }

  /** Throws a {@link FilterValidationError} with the issues recorded so far (at least one). */
  fail(source: string): never {
    throw new FilterValidationError(source, this.issues);
  }

  /** Throws a {@link FilterValidationError} when any issue was recorded. */
  finish(source: string): void {
    if (this.issues.length > 0) throw new FilterValidationError(source, this.issues);
  }
}

export type JsonObject = Record<string, unknown>;

/** JSONPath of a key below `path` (`$.a`, or `$["a b"]` when the key is not an identifier). */
export function keyPath(path: string, key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Parses JSON text, or takes an already-parsed value; bad JSON becomes one issue at `$`. */
export function readJson(input: unknown, issues: IssueList): unknown {
  if (typeof input !== 'string') return input;
  try {
    return JSON.parse(input) as unknown;
  } catch (error) {
    issues.add('$', `must be valid JSON (${(error as Error).message})`);
    return undefined;
  }
}

/**
 * Checks `value` is an object with only `allowed` keys and all `required` keys present.
 * Returns the object, or undefined (issue recorded) when it is not an object.
 */
export function readObject(
  value: unknown,
  path: string,
  issues: IssueList,
  allowed: readonly string[],
  required: readonly string[] = [],
): JsonObject | undefined {
  if (!isObject(value)) {
    issues.add(path, 'must be an object', value);
    return undefined;
  }
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) issues.add(keyPath(path, key), `unknown key; allowed keys: ${allowed.join(', ')}`, value[key]);
  }
  for (const key of required) {
    if (!(Object.hasOwn(value, key))) issues.add(keyPath(path, key), 'is required');
  }
  return value;
}

/** A non-empty string, or undefined (issue recorded). */
export function readString(value: unknown, path: string, issues: IssueList): string | undefined {
  if (typeof value !== 'string' || value.length === 0) {
    issues.add(path, 'must be a non-empty string', value);
    return undefined;
  }
  return value;
}

/** One of `choices`, or undefined (issue recorded). */
export function readChoice<T extends string>(value: unknown, path: string, issues: IssueList, choices: readonly T[]): T | undefined {
  if (typeof value !== 'string' || !(choices as readonly string[]).includes(value)) {
    issues.add(path, `must be one of ${choices.join(', ')}`, value);
    return undefined;
  }
  return value as T;
}

/** The optional `version` key: absent or 1. */
export function readVersion(doc: JsonObject, issues: IssueList): void {
  if (Object.hasOwn(doc, 'version') && doc.version !== 1) issues.add('$.version', 'must be 1 (the only version of this language)', doc.version);
}

/**
 * An array of non-empty strings (non-empty itself unless `allowEmpty`), or undefined (issue
 * recorded). Bad elements are reported one by one and left out.
 */
export function readStringList(
  value: unknown,
  path: string,
  issues: IssueList,
  options: { allowEmpty?: boolean } = {},
): string[] | undefined {
  if (!Array.isArray(value)) {
    issues.add(path, 'must be an array of strings', value);
    return undefined;
  }
  if (value.length === 0 && !options.allowEmpty) {
    issues.add(path, 'must not be empty', value);
    return undefined;
  }
  const out: string[] = [];
  value.forEach((item, i) => {
    const s = readString(item, `${path}[${i}]`, issues);
    if (s !== undefined) out.push(s);
  });
  return out;
}
