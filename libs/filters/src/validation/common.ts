// Pieces shared by the three documents: rule ids, families, the `when` condition.
import { parseCondition } from '../conditions/parse-condition';
import { EVENT_FAMILIES, type Condition, type EventFamily } from '../model';
import { keyPath, readString, type IssueList, type JsonObject } from './reader';

/** `family`: one family name or a non-empty array of distinct family names. */
export function readFamilies(value: unknown, path: string, issues: IssueList): EventFamily[] | undefined {
  const rule = `must be one of ${EVENT_FAMILIES.join(', ')}, or a non-empty array of them`;
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || list.length === 0) {
    issues.add(path, rule, value);
    return undefined;
  }
  const out: EventFamily[] = [];
  let ok = true;
  list.forEach((item, i) => {
    const itemPath = typeof value === 'string' ? path : `${path}[${i}]`;
    if (typeof item !== 'string' || !(EVENT_FAMILIES as readonly string[]).includes(item)) {
      issues.add(itemPath, `must be one of ${EVENT_FAMILIES.join(', ')}`, item);
      ok = false;
    } else if (out.includes(item as EventFamily)) {
      issues.add(itemPath, 'is listed twice', item);
      ok = false;
    } else out.push(item as EventFamily);
  });
  return ok ? out : undefined;
}

/** `id`: a non-empty string without spaces, unique in its document (`seen` collects them). */
export function readId(item: JsonObject, path: string, issues: IssueList, seen: Map<string, string>): string | undefined {
  if (!(Object.hasOwn(item, 'id'))) return undefined; // reported as required by readObject
  const idPath = keyPath(path, 'id');
  const id = readString(item.id, idPath, issues);
  if (id === undefined) return undefined;
  if (/\s/.test(id)) {
    issues.add(idPath, 'must not contain spaces', id);
    return undefined;
  }
  const first = seen.get(id);
  if (first !== undefined) {
    issues.add(idPath, `duplicate id; first used at ${first}`, id);
    return undefined;
  }
  seen.set(id, idPath);
  return id;
}

/** An optional non-empty string key. */
export function readOptionalText(item: JsonObject, key: string, path: string, issues: IssueList): string | undefined {
  return Object.hasOwn(item, key) ? readString(item[key], keyPath(path, key), issues) : undefined;
}

/** The `when` condition of a rule or signal. */
export function readWhen(item: JsonObject, path: string, issues: IssueList): Condition | undefined {
  return Object.hasOwn(item, 'when') ? parseCondition(item.when, keyPath(path, 'when'), issues) : undefined;
}
