// Validation of filters / watchlist / signals documents with @dc/filters, and the merged filter set an endpoint compiles.
import {
  compileFilterSet,
  FilterValidationError,
  parseFilters,
  parseSignals,
  parseWatchlist,
  type RuleProvenance,
} from '@dc/filters';
import type { ConfigIssue } from './recorder-parameters';

export type FilterDocumentKind = 'filters' | 'watchlist' | 'signals';

/** Every problem of a filter-language document, each with its JSON path (empty when valid). */
export function filterDocumentIssues(kind: FilterDocumentKind, file: string, text: string): ConfigIssue[] {
  try {
    if (kind === 'filters') parseFilters(text, file);
    else if (kind === 'watchlist') parseWatchlist(text, file);
    else parseSignals(text, file);
    return [];
  } catch (err) {
    if (err instanceof FilterValidationError) {
      return err.issues.map((i) => ('value' in i ? { jsonPath: i.path, rule: i.rule, value: i.value } : { jsonPath: i.path, rule: i.rule }));
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
    modules: input.modules.map((m) => ({ module: m.module, filters: parseFilters(m.content, `${m.module}_filters.json`) })),
    watchlist: input.watchlist === undefined ? undefined : parseWatchlist(input.watchlist),
  });
  return set.provenance;
}
