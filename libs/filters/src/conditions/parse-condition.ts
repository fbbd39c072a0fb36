// Parses and validates the JSON form of a condition (`all` / `any` / `not` / field tests).
import {
  NUMERIC_OPERATORS,
  OPERATORS,
  type Condition,
  type NumericOperator,
  type Operator,
  type Scalar,
  type TextOperator,
} from '../model';
import { isObject, keyPath, type IssueList } from '../validation/reader';
import { parseCidr } from './cidr';

/** Nesting deeper than this is refused: no operator needs it, and it bounds evaluation. */
export const MAX_CONDITION_DEPTH = 32;

const FIELD_PATH = /^[^.\s]+(\.[^.\s]+)*$/;
const COMBINATORS = ['all', 'any', 'not'] as const;
const IGNORE_CASE_OPERATORS: readonly Operator[] = ['equals', 'in', 'beginsWith', 'endsWith', 'contains', 'regex'];

/** Parses one condition at `path`; returns undefined (issues recorded) when it is invalid. */
export function parseCondition(value: unknown, path: string, issues: IssueList, depth = 0): Condition | undefined {
  if (!isObject(value)) {
    issues.add(path, 'must be a condition object: {"all": [...]}, {"any": [...]}, {"not": {...}} or {"field": ..., "<operator>": ...}', value);
    return undefined;
  }
  if (depth >= MAX_CONDITION_DEPTH) {
    issues.add(path, `conditions must not nest deeper than ${MAX_CONDITION_DEPTH} levels`);
    return undefined;
  }
  const combinators = COMBINATORS.filter((k) => Object.hasOwn(value, k));
  if (combinators.length > 0) return parseCombinator(value, combinators, path, issues, depth);
  return parseFieldTest(value, path, issues);
}

function parseCombinator(
  value: Record<string, unknown>,
  present: readonly (typeof COMBINATORS)[number][],
  path: string,
  issues: IssueList,
  depth: number,
): Condition | undefined {
  const keys = Object.keys(value);
  if (keys.length !== 1) {
    for (const key of keys) {
      if (key !== present[0]) issues.add(keyPath(path, key), `must not appear beside "${present[0]}": put each condition in its own object`, value[key]);
    }
    return undefined;
  }
  const kind = present[0];
  const inner = value[kind];
  const innerPath = keyPath(path, kind);
  if (kind === 'not') {
    const of = parseCondition(inner, innerPath, issues, depth + 1);
    return of && { kind: 'not', of };
  }
  if (!Array.isArray(inner) || inner.length === 0) {
    issues.add(innerPath, 'must be a non-empty array of conditions', inner);
    return undefined;
  }
  const of: Condition[] = [];
  let ok = true;
  inner.forEach((item, i) => {
    const c = parseCondition(item, `${innerPath}[${i}]`, issues, depth + 1);
    if (c) of.push(c);
    else ok = false;
  });
  return ok ? { kind, of } : undefined;
}

function parseFieldTest(value: Record<string, unknown>, path: string, issues: IssueList): Condition | undefined {
  let ok = true;
  for (const key of Object.keys(value)) {
    if (key !== 'field' && key !== 'ignoreCase' && !(OPERATORS as readonly string[]).includes(key)) {
      issues.add(keyPath(path, key), `unknown key; a field test has "field", one operator (${OPERATORS.join(', ')}) and optionally "ignoreCase"`, value[key]);
      ok = false;
    }
  }
  const field = value.field;
  if (!(Object.hasOwn(value, 'field'))) {
    issues.add(keyPath(path, 'field'), 'is required (or use "all", "any" or "not")');
    ok = false;
  } else if (typeof field !== 'string' || !FIELD_PATH.test(field)) {
    issues.add(keyPath(path, 'field'), 'must be a field name or dotted path like "exe" or "remote.address"', field);
    ok = false;
  }
  const ops = OPERATORS.filter((k) => Object.hasOwn(value, k));
  if (ops.length !== 1) {
    issues.add(path, ops.length === 0 ? `needs one operator: ${OPERATORS.join(', ')}` : `must have exactly one operator, found ${ops.join(', ')}`);
    return undefined;
  }
  const op = ops[0];
  let ignoreCase = false;
  if (Object.hasOwn(value, 'ignoreCase')) {
    const ic = value.ignoreCase;
    if (typeof ic !== 'boolean') {
      issues.add(keyPath(path, 'ignoreCase'), 'must be true or false', ic);
      ok = false;
    } else if (!IGNORE_CASE_OPERATORS.includes(op)) {
      issues.add(keyPath(path, 'ignoreCase'), `does not apply to "${op}"`, ic);
      ok = false;
    } else ignoreCase = ic;
  }
  const opPath = keyPath(path, op);
  const raw = value[op];
  const f = field as string;
  switch (op) {
    case 'equals': {
      if (!isScalar(raw)) {
        issues.add(opPath, 'must be a string, a finite number or a boolean', raw);
        return undefined;
      }
      return ok ? { kind: 'test', field: f, op, value: [raw], ignoreCase } : undefined;
    }
    case 'in': {
      if (!Array.isArray(raw) || raw.length === 0) {
        issues.add(opPath, 'must be a non-empty array of strings, numbers or booleans', raw);
        return undefined;
      }
      raw.forEach((item, i) => {
        if (!isScalar(item)) {
          issues.add(`${opPath}[${i}]`, 'must be a string, a finite number or a boolean', item);
          ok = false;
        }
      });
      return ok ? { kind: 'test', field: f, op, value: raw as Scalar[], ignoreCase } : undefined;
    }
    case 'beginsWith':
    case 'endsWith':
    case 'contains': {
      const list = readTextList(raw, opPath, issues);
      return ok && list ? { kind: 'test', field: f, op: op as TextOperator, value: list, ignoreCase } : undefined;
    }
    case 'regex': {
      if (typeof raw !== 'string' || raw.length === 0) {
        issues.add(opPath, 'must be a non-empty regular expression string', raw);
        return undefined;
      }
      try {
        new RegExp(raw, ignoreCase ? 'i' : '');
      } catch (error) {
        issues.add(opPath, `must be a valid JavaScript regular expression (${(error as Error).message})`, raw);
        return undefined;
      }
      return ok ? { kind: 'test', field: f, op, value: raw, ignoreCase } : undefined;
    }
    case 'cidr': {
      const list = readTextList(raw, opPath, issues);
      if (!list) return undefined;
      list.forEach((item, i) => {
        if (!parseCidr(item)) {
          issues.add(Array.isArray(raw) ? `${opPath}[${i}]` : opPath, 'must be an IPv4 or IPv6 CIDR like 10.0.0.0/8 or fd00::/8 (or a single address)', item);
          ok = false;
        }
      });
      return ok ? { kind: 'test', field: f, op, value: list } : undefined;
    }
    case 'exists': {
      if (typeof raw !== 'boolean') {
        issues.add(opPath, 'must be true or false', raw);
        return undefined;
      }
      return ok ? { kind: 'test', field: f, op, value: raw } : undefined;
    }
    default: {
      const numeric: NumericOperator = op;
      if (!NUMERIC_OPERATORS.includes(numeric) || typeof raw !== 'number' || !Number.isFinite(raw)) {
        issues.add(opPath, 'must be a finite number', raw);
        return undefined;
      }
      return ok ? { kind: 'test', field: f, op: numeric, value: raw } : undefined;
    }
  }
}

function isScalar(value: unknown): value is Scalar {
  return typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value));
}

/** A non-empty string, or a non-empty array of non-empty strings. */
function readTextList(raw: unknown, path: string, issues: IssueList): string[] | undefined {
  if (typeof raw === 'string') {
    if (raw.length > 0) return [raw];
    issues.add(path, 'must be a non-empty string or a non-empty array of non-empty strings', raw);
    return undefined;
  }
  if (!Array.isArray(raw) || raw.length === 0) {
    issues.add(path, 'must be a non-empty string or a non-empty array of non-empty strings', raw);
    return undefined;
  }
  let ok = true;
  raw.forEach((item, i) => {
    if (typeof item !== 'string' || item.length === 0) {
      issues.add(`${path}[${i}]`, 'must be a non-empty string', item);
      ok = false;
    }
  });
  return ok ? (raw as string[]) : undefined;
}

/** The JSON form of a condition, as an operator would write it (used to store definitions). */
export function renderCondition(condition: Condition): unknown {
  switch (condition.kind) {
    case 'all':
    case 'any':
      return { [condition.kind]: condition.of.map(renderCondition) };
    case 'not':
      return { not: renderCondition(condition.of) };
    case 'test': {
      const out: Record<string, unknown> = { field: condition.field };
      if (condition.op === 'equals') out.equals = condition.value[0];
      else if (condition.op === 'beginsWith' || condition.op === 'endsWith' || condition.op === 'contains' || condition.op === 'cidr') {
        out[condition.op] = condition.value.length === 1 ? condition.value[0] : [...condition.value];
      } else if (condition.op === 'in') out.in = [...condition.value];
      else out[condition.op] = condition.value;
      if ('ignoreCase' in condition && condition.ignoreCase) out.ignoreCase = true;
      return out;
    }
  }
}
