// The trie and Aho–Corasick find exactly what naive scanning finds (property tests, fixed seed).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AhoCorasick } from './aho-corasick';
import { PrefixTrie } from './prefix-trie';

const SEED = 20261123;
// A small alphabet makes overlaps, shared prefixes and repeated literals common.
const word = fc.string({ unit: fc.constantFrom('a', 'b', 'c', '/', 'é'), minLength: 1, maxLength: 6 });
const text = fc.string({ unit: fc.constantFrom('a', 'b', 'c', '/', 'é'), maxLength: 24 });

function collect(visit: (sink: (values: readonly number[]) => void) => void): number[] {
  const out: number[] = [];
  visit((values) => out.push(...values));
  return out.sort((a, b) => a - b);
}

describe('PrefixTrie', () => {
  it('finds every literal that begins the text, like startsWith', () => {
    fc.assert(
      fc.property(fc.array(word, { maxLength: 20 }), text, (literals, t) => {
        const trie = new PrefixTrie<number>();
        literals.forEach((l, i) => trie.add(l, i));
        const expected = literals.flatMap((l, i) => (t.startsWith(l) ? [i] : []));
        expect(collect((sink) => trie.forEachMatch(t, sink))).toEqual(expected);
        expect(trie.matchesAny(t)).toBe(expected.length > 0);
      }),
      { seed: SEED, numRuns: 500 },
    );
  });

  it('reversed, finds every literal that ends the text, like endsWith', () => {
    fc.assert(
      fc.property(fc.array(word, { maxLength: 20 }), text, (literals, t) => {
        const trie = new PrefixTrie<number>(true);
        literals.forEach((l, i) => trie.add(l, i));
        const expected = literals.flatMap((l, i) => (t.endsWith(l) ? [i] : []));
        expect(collect((sink) => trie.forEachMatch(t, sink))).toEqual(expected);
        expect(trie.matchesAny(t)).toBe(expected.length > 0);
      }),
      { seed: SEED, numRuns: 500 },
    );
  });
});

describe('AhoCorasick', () => {
  it('finds every literal occurring in the text, like includes', () => {
    fc.assert(
      fc.property(fc.array(word, { maxLength: 20 }), text, (literals, t) => {
        const ac = new AhoCorasick<number>();
        literals.forEach((l, i) => ac.add(l, i));
        ac.seal();
        const expected = literals.flatMap((l, i) => (t.includes(l) ? [i] : []));
        expect([...new Set(collect((sink) => ac.forEachMatch(t, sink)))]).toEqual(expected);
        expect(ac.matchesAny(t)).toBe(expected.length > 0);
      }),
      { seed: SEED, numRuns: 500 },
    );
  });

  it('finds literals that are suffixes of other literals (output links)', () => {
    const ac = new AhoCorasick<string>();
    for (const l of ['he', 'she', 'his', 'hers']) ac.add(l, l);
    ac.seal();
    const found: string[] = [];
    ac.forEachMatch('ushers', (v) => found.push(...v));
    expect(found.sort()).toEqual(['he', 'hers', 'she']);
  });

  it('refuses literals added after sealing', () => {
    const ac = new AhoCorasick<number>().seal();
    expect(() => ac.add('x', 1)).toThrow('AhoCorasick.add after seal');
  });
});
