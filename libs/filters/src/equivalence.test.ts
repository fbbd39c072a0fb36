// Property: compiled matching (sets, tries, Aho–Corasick, rule index) decides exactly as the
// linear fallback (SPEC 2.6 DisableSignalsTrie) on random rules and events (fixed seed).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileFilterSet } from './filters/filter-set';
import { parseFilters } from './filters/parse-filters';
import { compileSignals } from './signals/signal-set';
import { parseSignals } from './signals/parse-signals';

const SEED = 4242;
const FAMILIES = ['process', 'file', 'network'] as const;
// A tiny alphabet so that literals and event values collide often.
const piece = fc.string({ unit: fc.constantFrom('a', 'b', 'A', '/', '.'), minLength: 1, maxLength: 4 });
const literals = fc.array(piece, { minLength: 1, maxLength: 10 });
const textField = fc.constantFrom('exe', 'path', 'argv', 'user.name');
const ADDRESSES = ['10.1.2.3', '192.168.0.9', '::1', '::ffff:10.0.0.7', 'fd00::5', 'not-an-ip'];

const leaf: fc.Arbitrary<unknown> = fc.oneof(
  fc.record({ field: textField, equals: piece, ignoreCase: fc.boolean() }),
  fc.record({ field: textField, in: literals, ignoreCase: fc.boolean() }),
  fc.record({ field: textField, beginsWith: literals, ignoreCase: fc.boolean() }),
  fc.record({ field: textField, endsWith: literals, ignoreCase: fc.boolean() }),
  fc.record({ field: textField, contains: literals, ignoreCase: fc.boolean() }),
  fc.record({ field: textField, regex: fc.constantFrom('^a', 'b$', 'a.b', '/{2}'), ignoreCase: fc.boolean() }),
  fc.record({ field: fc.constant('port'), in: fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 1, maxLength: 6 }) }),
  fc.record({ field: fc.constant('port'), gt: fc.integer({ min: 0, max: 5 }) }),
  fc.record({ field: fc.constant('port'), lte: fc.integer({ min: 0, max: 5 }) }),
  fc.record({ field: fc.constant('remote.address'), cidr: fc.subarray(['10.0.0.0/8', '::1', 'fd00::/8', '192.168.0.0/16'], { minLength: 1 }) }),
  fc.record({ field: fc.constantFrom('exe', 'user.name'), exists: fc.boolean() }),
);

const condition: fc.Arbitrary<unknown> = fc.letrec<{ c: unknown }>((tie) => ({
  c: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc.record({ all: fc.array(tie('c'), { minLength: 1, maxLength: 3 }) }),
    fc.record({ any: fc.array(tie('c'), { minLength: 1, maxLength: 3 }) }),
    fc.record({ not: tie('c') }),
  ),
})).c;

const event = fc.record(
  {
    family: fc.constantFrom(...FAMILIES),
    exe: piece,
    path: fc.string({ unit: fc.constantFrom('a', 'b', 'A', '/', '.'), maxLength: 12 }),
    argv: fc.array(piece, { maxLength: 4 }),
    user: fc.record({ name: piece }, { requiredKeys: [] }),
    port: fc.oneof(fc.integer({ min: 0, max: 5 }), fc.constantFrom('3', 'x')),
    remote: fc.record({ address: fc.constantFrom(...ADDRESSES) }),
  },
  { requiredKeys: ['family'] },
);

const rules = fc.array(
  fc.record({ family: fc.constantFrom(...FAMILIES), action: fc.constantFrom('include', 'exclude'), when: condition }),
  { maxLength: 30 },
);

describe('compiled matching equals the linear fallback', () => {
  it('FilterSet.decide gives the same decision, rule and module for every event', () => {
    fc.assert(
      fc.property(rules, rules, fc.array(event, { minLength: 1, maxLength: 30 }), (baseRules, moduleRules, events) => {
        const doc = (rs: typeof baseRules, prefix: string) =>
          ({ rules: rs.map((r, i) => ({ id: `${prefix}${i}`, ...r })) });
        const input = {
          base: parseFilters(doc(baseRules, 'b')),
          modules: [{ module: 'm', filters: parseFilters(doc(moduleRules, 'm')) }],
        };
        const fast = compileFilterSet(input);
        const linear = compileFilterSet(input, { disableSignalsTrie: true });
        for (const e of events) expect(fast.decide(e)).toEqual(linear.decide(e));
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  it('SignalSet.match gives the same signals in the same order for every event', () => {
    fc.assert(
      fc.property(rules, fc.array(event, { minLength: 1, maxLength: 30 }), (defs, events) => {
        const doc = parseSignals({
          signals: defs.map((d, i) => ({ id: `s${i}`, name: `signal ${i}`, severity: 'low', family: d.family, when: d.when })),
        });
        const fast = compileSignals(doc);
        const linear = compileSignals(doc, { disableSignalsTrie: true });
        for (const e of events) expect(fast.match(e)).toEqual(linear.match(e));
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  it('the random rules do match: the property is not vacuous', () => {
    // Over a fixed sample, some events must be dropped by an exclude and some matched by signals.
    const sample = fc.sample(fc.tuple(rules, fc.array(event, { minLength: 30, maxLength: 30 })), { seed: SEED, numRuns: 50 });
    let excluded = 0;
    let matched = 0;
    for (const [rs, events] of sample) {
      const set = compileFilterSet({ base: parseFilters({ rules: rs.map((r, i) => ({ id: `r${i}`, ...r })) }) });
      const signals = compileSignals(parseSignals({ signals: rs.map((r, i) => ({ id: `s${i}`, name: 'n', severity: 'low', family: r.family, when: r.when })) }));
      for (const e of events) {
        if (set.decide(e).reason === 'exclude') excluded++;
        matched += signals.match(e).length;
      }
    }
    expect(excluded).toBeGreaterThan(50);
    expect(matched).toBeGreaterThan(50);
  });
});
