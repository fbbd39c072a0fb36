// Compiles a condition tree into a predicate over events, with set/trie/Aho–Corasick leaves.
import { AhoCorasick } from '../matchers/aho-corasick';
import { PrefixTrie } from '../matchers/prefix-trie';
import type { Condition, FieldTest, FilterEvent, TextTest } from '../model';
import { CidrMatcher, parseCidr, type CidrBlock } from './cidr';
import { fieldGetter, numberOf, textOf } from './field-values';

/** A compiled condition. */
export type Predicate = (event: FilterEvent) => boolean;

/** How conditions are compiled. */
export interface CompileOptions {
  /**
   * SPEC 2.6 DisableSignalsTrie: when true, literal lists are scanned one by one instead of
   * through hash sets, tries and Aho–Corasick, and rules are tried in order without the
   * cross-rule index. Results are identical; only speed differs.
   */
  readonly disableSignalsTrie?: boolean;
}

/** Below this many literals a plain scan beats building a set or trie. */
const SMALL_LIST = 4;

/** Compiles `condition`; see the README for the semantics of each operator. */
export function compileCondition(condition: Condition, options: CompileOptions = {}): Predicate {
  switch (condition.kind) {
    case 'all': {
      const parts = condition.of.map((c) => compileCondition(c, options));
      if (parts.length === 1) return parts[0];
      return (event) => {
        for (let i = 0; i < parts.length; i++) if (!parts[i](event)) return false;
        return true;
      };
    }
    case 'any': {
      const parts = condition.of.map((c) => compileCondition(c, options));
      if (parts.length === 1) return parts[0];
      return (event) => {
        for (let i = 0; i < parts.length; i++) if (parts[i](event)) return true;
        return false;
      };
    }
    case 'not': {
      const inner = compileCondition(condition.of, options);
      return (event) => !inner(event);
    }
    case 'test':
      return compileTest(condition, options);
  }
}

function compileTest(test: FieldTest, options: CompileOptions): Predicate {
  const get = fieldGetter(test.field);
  if (test.op === 'exists') {
    const want = test.value;
    return (event) => {
      const v = get(event);
      return (v !== undefined && v !== null) === want;
    };
  }
  const matchOne = compileValueTest(test, options);
  // Arrays (e.g. argv) match when any element matches.
  return (event) => {
    const v = get(event);
    if (v === undefined || v === null) return false;
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) if (matchOne(v[i])) return true;
      return false;
    }
    return matchOne(v);
  };
}

/** A test of one (non-array) field value. */
function compileValueTest(test: Exclude<FieldTest, { op: 'exists' }>, options: CompileOptions): (value: unknown) => boolean {
  switch (test.op) {
    case 'gt': {
      const n = test.value;
      return (v) => numberOf(v) > n;
    }
    case 'gte': {
      const n = test.value;
      return (v) => numberOf(v) >= n;
    }
    case 'lt': {
      const n = test.value;
      return (v) => numberOf(v) < n;
    }
    case 'lte': {
      const n = test.value;
      return (v) => numberOf(v) <= n;
    }
    case 'regex': {
      const re = new RegExp(test.value, test.ignoreCase ? 'i' : '');
      return (v) => {
        const t = textOf(v);
        return t !== undefined && re.test(t);
      };
    }
    case 'cidr': {
      const matcher = new CidrMatcher(test.value.map((c) => parseCidr(c) as CidrBlock));
      return (v) => typeof v === 'string' && matcher.matches(v);
    }
    default: {
      const matchText = compileTextTest(test, options);
      if (!test.ignoreCase) {
        return (v) => {
          const t = textOf(v);
          return t !== undefined && matchText(t);
        };
      }
      return (v) => {
        const t = textOf(v);
        return t !== undefined && matchText(t.toLowerCase());
      };
    }
  }
}

/** The literals of a text test as compared: text form, lower-cased under `ignoreCase`. */
export function textLiterals(test: TextTest): string[] {
  return test.value.map((v) => (test.ignoreCase ? String(v).toLowerCase() : String(v)));
}

function compileTextTest(test: TextTest, options: CompileOptions): (text: string) => boolean {
  const literals = textLiterals(test);
  const linear = options.disableSignalsTrie === true || literals.length < SMALL_LIST;
  switch (test.op) {
    case 'equals':
    case 'in': {
      if (linear) return (t) => literals.includes(t);
      const set = new Set(literals);
      return (t) => set.has(t);
    }
    case 'beginsWith': {
      if (linear) return (t) => literals.some((l) => t.startsWith(l));
      const trie = new PrefixTrie<true>();
      for (const l of literals) trie.add(l, true);
      return (t) => trie.matchesAny(t);
    }
    case 'endsWith': {
      if (linear) return (t) => literals.some((l) => t.endsWith(l));
      const trie = new PrefixTrie<true>(true);
      for (const l of literals) trie.add(l, true);
      return (t) => trie.matchesAny(t);
    }
    case 'contains': {
      if (linear) return (t) => literals.some((l) => t.includes(l));
      const ac = new AhoCorasick<true>();
      for (const l of literals) ac.add(l, true);
      ac.seal();
      return (t) => ac.matchesAny(t);
    }
  }
}
