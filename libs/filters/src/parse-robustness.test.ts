// Any input at all gives a document or a FilterValidationError: never a crash or another error.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FilterValidationError } from './errors';
import { parseFilters } from './filters/parse-filters';
import { parseSignals } from './signals/parse-signals';
import { parseWatchlist } from './watchlist/parse-watchlist';

const SEED = 7;
const ruleLike = fc.record(
  {
    id: fc.oneof(fc.string(), fc.integer()),
    family: fc.oneof(fc.constantFrom('process', 'file', 'dns', 'kernel'), fc.array(fc.string())),
    action: fc.constantFrom('include', 'exclude', 'drop'),
    when: fc.jsonValue({ maxDepth: 4 }),
  },
  { requiredKeys: [] },
);

describe.each([
  ['parseFilters', (v: unknown) => parseFilters(v)],
  ['parseWatchlist', (v: unknown) => parseWatchlist(v)],
  ['parseSignals', (v: unknown) => parseSignals(v)],
])('%s on arbitrary input', (_name, parse) => {
  it('returns a document or throws FilterValidationError with at least one issue', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.jsonValue(), fc.string(), fc.record({ rules: fc.array(ruleLike), signals: fc.array(ruleLike), paths: fc.jsonValue() }, { requiredKeys: [] })),
        (input) => {
          try {
            parse(input);
          } catch (error) {
            expect(error).toBeInstanceOf(FilterValidationError);
            expect((error as FilterValidationError).issues.length).toBeGreaterThan(0);
          }
        },
      ),
      { seed: SEED, numRuns: 400 },
    );
  });
});
