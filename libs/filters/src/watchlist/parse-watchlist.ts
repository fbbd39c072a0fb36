// Parses and validates the Integrity Monitor `watchlist.json` (SPEC 2.3).
import { FILE_OPERATIONS, type FileOperation, type WatchlistDocument } from '../model';
import { IssueList, readChoice, readJson, readObject, readStringList, readVersion } from '../validation/reader';

/** Absolute on Linux/macOS (`/etc/`) or Windows (`C:\Windows\`, `\\server\share\`). */
const ABSOLUTE_PATH = /^(\/|[A-Za-z]:[\\/]|\\\\)/;

/**
 * Parses a watchlist (JSON text, or a value already parsed) and validates all of it.
 * @throws FilterValidationError listing every problem with its JSON path
 */
export function parseWatchlist(input: unknown, source = 'watchlist.json'): WatchlistDocument {
  const issues = new IssueList();
  const json = readJson(input, issues);
  issues.finish(source);
  const doc = readObject(json, '$', issues, ['version', 'paths', 'exclusions', 'operations'], ['paths']);
  if (!doc) return issues.fail(source);
  readVersion(doc, issues);
  const paths = Object.hasOwn(doc, 'paths') ? readAbsolutePaths(doc.paths, '$.paths', issues) : [];
  const exclusions = Object.hasOwn(doc, 'exclusions') ? readAbsolutePaths(doc.exclusions, '$.exclusions', issues) : [];
  let operations: FileOperation[] = [...FILE_OPERATIONS];
  if (Object.hasOwn(doc, 'operations')) {
    const raw = doc.operations;
    if (!Array.isArray(raw) || raw.length === 0) {
      issues.add('$.operations', `must be a non-empty array of ${FILE_OPERATIONS.join(', ')} (leave it out to watch all)`, raw);
    } else {
      operations = [];
      raw.forEach((op, i) => {
        const o = readChoice(op, `$.operations[${i}]`, issues, FILE_OPERATIONS);
        if (o && !operations.includes(o)) operations.push(o);
      });
    }
  }
  issues.finish(source);
  return { version: 1, paths, exclusions, operations };
}

function readAbsolutePaths(value: unknown, path: string, issues: IssueList): string[] {
  const list = readStringList(value, path, issues, { allowEmpty: true }) ?? [];
  return list.filter((p, i) => {
    if (ABSOLUTE_PATH.test(p)) return true;
    issues.add(`${path}[${i}]`, 'must be an absolute path like /etc/ or C:\\Windows\\', p);
    return false;
  });
}
