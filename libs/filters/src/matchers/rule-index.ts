// Cross-rule index: finds the few rules an event can match from their literals, then checks only those.
import { textLiterals, type Predicate } from '../conditions/compile-condition';
import { fieldGetter, textOf, type FieldGetter } from '../conditions/field-values';
import type { Condition, FilterEvent, TextOperator } from '../model';
import { AhoCorasick } from './aho-corasick';
import { PrefixTrie } from './prefix-trie';

/**
 * A necessary condition of a rule: if the rule matches, the field's text (lower-cased under
 * `ignoreCase`) equals / begins with / ends with / contains one of `literals`.
 */
interface IndexKey {
  readonly field: string;
  readonly kind: 'equals' | 'beginsWith' | 'endsWith' | 'contains';
  readonly ignoreCase: boolean;
  readonly literals: readonly string[];
}

const KIND_COST: Record<IndexKey['kind'], number> = { equals: 0, beginsWith: 1, endsWith: 1, contains: 2 };

/**
 * Keys such that a match of `condition` implies a hit on at least one of them, or undefined
 * when no such keys exist (e.g. under `not`, or a regex-only rule): such rules are always tried.
 */
export function indexKeys(condition: Condition): IndexKey[] | undefined {
  switch (condition.kind) {
    case 'test': {
      const op = condition.op as string;
      if (op !== 'equals' && op !== 'in' && op !== 'beginsWith' && op !== 'endsWith' && op !== 'contains') return undefined;
      const test = condition as Extract<Condition, { op: TextOperator }>;
      const kind = op === 'in' ? 'equals' : (op as IndexKey['kind']);
      return [{ field: test.field, kind, ignoreCase: test.ignoreCase, literals: textLiterals(test) }];
    }
    case 'all': {
      // Any one conjunct is necessary; take the cheapest, most selective one.
      let best: IndexKey[] | undefined;
      for (const child of condition.of) {
        const keys = indexKeys(child);
        if (keys && (!best || cost(keys) < cost(best))) best = keys;
      }
      return best;
    }
    case 'any': {
      const all: IndexKey[] = [];
      for (const child of condition.of) {
        const keys = indexKeys(child);
        if (!keys) return undefined;
        all.push(...keys);
      }
      return all;
    }
    case 'not':
      return undefined;
  }
}

function cost(keys: readonly IndexKey[]): number {
  let worst = 0;
  let literals = 0;
  for (const k of keys) {
    worst = Math.max(worst, KIND_COST[k.kind]);
    literals += k.literals.length;
  }
  return worst * 1_000_000 + literals;
}

/** The structures of one field (and case mode), shared by every rule keyed on it. */
interface FieldIndex {
  readonly get: FieldGetter;
  readonly ignoreCase: boolean;
  equals: Map<string, number[]> | undefined;
  prefix: PrefixTrie<number> | undefined;
  suffix: PrefixTrie<number> | undefined;
  contains: AhoCorasick<number> | undefined;
}

/**
 * An ordered list of rules that answers "first rule that matches" and "every rule that
 * matches" exactly as trying them in order would. With `linear` it does just that (SPEC 2.6
 * DisableSignalsTrie); otherwise it narrows the rules to try through its field indexes. Keeps
 * scratch buffers, so one instance must not be used re-entrantly.
 */
export class RuleIndex {
  private readonly fields: FieldIndex[] = [];
  /** Rules with no index key, ascending: tried for every event. */
  private readonly unindexed: Int32Array;
  private readonly stamp: Uint32Array;
  private readonly candidates: Int32Array;
  private epoch = 0;
  private count = 0;
  private readonly mark = (ids: readonly number[]): void => {
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      if (this.stamp[id] !== this.epoch) {
        this.stamp[id] = this.epoch;
        this.candidates[this.count++] = id;
      }
    }
  };

  constructor(
    private readonly predicates: readonly Predicate[],
    conditions: readonly Condition[],
    private readonly linear: boolean,
  ) {
    const n = predicates.length;
    this.stamp = new Uint32Array(linear ? 0 : n);
    this.candidates = new Int32Array(linear ? 0 : n);
    const unindexed: number[] = [];
    if (linear) {
      this.unindexed = new Int32Array(0);
      return;
    }
    const byField = new Map<string, FieldIndex>();
    conditions.forEach((condition, id) => {
      const keys = indexKeys(condition);
      if (!keys) {
        unindexed.push(id);
        return;
      }
      for (const key of keys) {
        const name = `${key.ignoreCase ? 'i' : 's'}:${key.field}`;
        let f = byField.get(name);
        if (!f) {
          f = { get: fieldGetter(key.field), ignoreCase: key.ignoreCase, equals: undefined, prefix: undefined, suffix: undefined, contains: undefined };
          byField.set(name, f);
          this.fields.push(f);
        }
        for (const literal of key.literals) {
          switch (key.kind) {
            case 'equals': {
              f.equals ??= new Map();
              const ids = f.equals.get(literal);
              if (ids) ids.push(id);
              else f.equals.set(literal, [id]);
              break;
            }
            case 'beginsWith':
              (f.prefix ??= new PrefixTrie<number>()).add(literal, id);
              break;
            case 'endsWith':
              (f.suffix ??= new PrefixTrie<number>(true)).add(literal, id);
              break;
            case 'contains':
              (f.contains ??= new AhoCorasick<number>()).add(literal, id);
              break;
          }
        }
      }
    });
    for (const f of this.fields) f.contains?.seal();
    this.unindexed = Int32Array.from(unindexed);
  }

  /** Number of rules. */
  get size(): number {
    return this.predicates.length;
  }

  /** Position of the first rule (in the order given) that matches `event`, or -1. */
  firstMatch(event: FilterEvent): number {
    const preds = this.predicates;
    if (this.linear) {
      for (let i = 0; i < preds.length; i++) if (preds[i](event)) return i;
      return -1;
    }
    this.collect(event);
    let best = preds.length;
    for (let i = 0; i < this.count; i++) {
      const c = this.candidates[i];
      if (c < best && preds[c](event)) best = c;
    }
    const u = this.unindexed;
    for (let i = 0; i < u.length && u[i] < best; i++) {
      if (preds[u[i]](event)) {
        best = u[i];
        break;
      }
    }
    return best < preds.length ? best : -1;
  }

  /** Appends the positions of every matching rule to `out`, ascending; returns how many. */
  allMatches(event: FilterEvent, out: number[]): number {
    const preds = this.predicates;
    const start = out.length;
    if (this.linear) {
      for (let i = 0; i < preds.length; i++) if (preds[i](event)) out.push(i);
      return out.length - start;
    }
    this.collect(event);
    for (let i = 0; i < this.count; i++) {
      const c = this.candidates[i];
      if (preds[c](event)) out.push(c);
    }
    const u = this.unindexed;
    for (let i = 0; i < u.length; i++) if (preds[u[i]](event)) out.push(u[i]);
    const found = out.length - start;
    if (found > 1) {
      const sorted = out.slice(start).sort((a, b) => a - b);
      for (let i = 0; i < found; i++) out[start + i] = sorted[i];
    }
    return found;
  }

  /** Fills `candidates` with the indexed rules whose key the event hits. */
  private collect(event: FilterEvent): void {
    this.count = 0;
    if (++this.epoch === 0xffffffff) {
      this.stamp.fill(0);
      this.epoch = 1;
    }
    for (let i = 0; i < this.fields.length; i++) {
      const f = this.fields[i];
      const v = f.get(event);
      if (v === undefined || v === null) continue;
      if (Array.isArray(v)) {
        for (let j = 0; j < v.length; j++) this.visit(f, v[j]);
      } else this.visit(f, v);
    }
  }

  private visit(f: FieldIndex, value: unknown): void {
    let t = textOf(value);
    if (t === undefined) return;
    if (f.ignoreCase) t = t.toLowerCase();
    if (f.equals) {
      const ids = f.equals.get(t);
      if (ids) this.mark(ids);
    }
    f.prefix?.forEachMatch(t, this.mark);
    f.suffix?.forEachMatch(t, this.mark);
    f.contains?.forEachMatch(t, this.mark);
  }
}
