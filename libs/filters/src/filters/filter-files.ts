// Builds a FilterSet from the files of the Trace directory by their SPEC 2.3 names (text in, no I/O).
import type { CompileOptions } from '../conditions/compile-condition';
import { FilterValidationError } from '../errors';
import type { FiltersDocument, WatchlistDocument } from '../model';
import { parseWatchlist } from '../watchlist/parse-watchlist';
import { compileFilterSet, type FilterSet } from './filter-set';
import { parseFilters } from './parse-filters';

/** `map_filters.json` → `map`. */
const MODULE_FILTERS = /^([A-Za-z0-9][A-Za-z0-9-]*)_filters\.json$/;

/** What {@link compileFilterFiles} built and what it had to leave out. */
export interface FilterFilesResult {
  /** The merged set of every file that parsed. */
  readonly filterSet: FilterSet;
  /** Modules merged, sorted by name (the order their rules are reported in). */
  readonly modules: readonly string[];
  /** One error per file that was left out, naming the file. */
  readonly errors: readonly FilterValidationError[];
}

/**
 * Parses and merges `filters.json` (the base; its name is `baseName`, SPEC 2.5 filterLocation),
 * every `<module>_filters.json` and `watchlist.json`, given as file name → JSON text. A file
 * that does not parse is left out and reported in `errors`; the rest still apply. Names that
 * are none of these are reported too.
 */
export function compileFilterFiles(
  files: Readonly<Record<string, string>>,
  options: CompileOptions & { readonly baseName?: string; readonly watchlistName?: string } = {},
): FilterFilesResult {
  const baseName = options.baseName ?? 'filters.json';
  const watchlistName = options.watchlistName ?? 'watchlist.json';
  const errors: FilterValidationError[] = [];
  const attempt = <T>(parse: () => T): T | undefined => {
    try {
      return parse();
    } catch (error) {
      if (error instanceof FilterValidationError) {
        errors.push(error);
        return undefined;
      }
      throw error;
    }
  };
  let base: FiltersDocument | undefined;
  let watchlist: WatchlistDocument | undefined;
  const modules: { module: string; filters: FiltersDocument }[] = [];
  for (const name of Object.keys(files).sort()) {
    const text = files[name];
    const module = MODULE_FILTERS.exec(name)?.[1];
    if (name === baseName) base = attempt(() => parseFilters(text, name));
    else if (name === watchlistName) watchlist = attempt(() => parseWatchlist(text, name));
    else if (module !== undefined) {
      const filters = attempt(() => parseFilters(text, name));
      if (filters) modules.push({ module, filters });
    } else {
      errors.push(new FilterValidationError(name, [{ path: '$', rule: `file name must be ${baseName}, <module>_filters.json or ${watchlistName}` }]));
    }
  }
  return {
    filterSet: compileFilterSet({ base, modules, watchlist }, options),
    modules: modules.map((m) => m.module),
    errors,
  };
}
