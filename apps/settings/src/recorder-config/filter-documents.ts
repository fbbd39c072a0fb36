// Validation of filters / watchlist / signals documents with @dc/filters, and the merged filter set an endpoint compiles.
import {
  compileFilterSet,
  FilterValidationError,
  type FiltersDocument,
  formatIssue,
  parseFilters,
  parseSignals,
  parseWatchlist,
  type RuleProvenance,
  type WatchlistDocument,
} from '@dc/filters';
import { InvalidArgument } from '../errors';

export type FilterDocumentKind = 'filters' | 'watchlist' | 'signals';

/**
 * Validates a filter-language document; throws InvalidArgument naming the file and every
 * problem with its JSON path: `im_filters.json: $.rules[0].action "drop": must be one of …`.
 */
export function validateFilterDocument(kind: FilterDocumentKind, file: string, text: string): unknown {
  try {
    if (kind === 'filters') return parseFilters(text, file);
    if (kind === 'watchlist') return parseWatchlist(text, file);
    return parseSignals(text, file);
  } catch (err) {
    if (err instanceof FilterValidationError) {
      throw new InvalidArgument(file, err.issues.map(formatIssue).join('; '));
    }
    throw err;
  }
}

/**
 * Compiles the merged filter set (base filters, each module's filters, the watchlist) as an
 * endpoint would (SPEC 2.7), returning where each rule comes from.
 */
export function mergedFilterProvenance(input: {
  base?: string;
  modules: Array<{ module: string; content: string }>;
  watchlist?: string;
}): readonly RuleProvenance[] {
  const set = compileFilterSet({
    base: input.base === undefined ? undefined : parseFilters(input.base),
    modules: input.modules.map((m) => ({ module: m.module, filters: parseFilters(m.content, `${m.module}_filters.json`) as FiltersDocument })),
    watchlist: input.watchlist === undefined ? undefined : (parseWatchlist(input.watchlist) as WatchlistDocument),
  });
  return set.provenance;
}
