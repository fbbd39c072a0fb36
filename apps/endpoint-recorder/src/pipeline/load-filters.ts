// Reads filters.json, every <module>_filters.json, watchlist.json and signals.json beside the
// config (SPEC 2.3) and compiles them; a missing file means "no opinion".
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { compileFilterSet, compileSignals, parseFilters, parseSignals, parseWatchlist, type FilterSet, type SignalSet, type SignalsDocument } from '@dc/filters';
import type { RecorderConfig } from '../config/load-config';

export interface LoadedFilters {
  readonly filters: FilterSet;
  readonly signals: SignalSet | undefined;
  readonly signalsDocument: SignalsDocument | undefined;
  /** Files read, by name. */
  readonly files: readonly string[];
}

const MODULE_FILTERS = /^(.+)_filters\.json$/;

function readIf(path: string): string | undefined {
  return existsSync(path) ? readFileSync(path, 'utf8') : undefined;
}

/** Throws FilterValidationError (naming the file and every problem) for an invalid document. */
export function loadFilters(config: RecorderConfig): LoadedFilters {
  const files: string[] = [];
  const baseText = readIf(config.paths.filters);
  if (baseText !== undefined) files.push(basename(config.paths.filters));
  const base = baseText === undefined ? undefined : parseFilters(baseText, basename(config.paths.filters));
  const dir = dirname(config.paths.filters);
  const modules = (existsSync(dir) ? readdirSync(dir) : [])
    .filter((n) => MODULE_FILTERS.test(n))
    .sort()
    .map((n) => {
      files.push(n);
      return { module: MODULE_FILTERS.exec(n)![1], filters: parseFilters(readFileSync(join(dir, n), 'utf8'), n) };
    });
  const watchText = readIf(config.paths.watchlist);
  if (watchText !== undefined) files.push(basename(config.paths.watchlist));
  const watchlist = watchText === undefined ? undefined : parseWatchlist(watchText, basename(config.paths.watchlist));
  const signalsText = config.DisableSignals ? undefined : readIf(config.paths.signals);
  if (signalsText !== undefined) files.push(basename(config.paths.signals));
  const signalsDocument = signalsText === undefined ? undefined : parseSignals(signalsText, basename(config.paths.signals));
  const options = { disableSignalsTrie: config.DisableSignalsTrie };
  return {
    filters: compileFilterSet({ ...(base ? { base } : {}), modules, ...(watchlist ? { watchlist } : {}) }, options),
    signals: signalsDocument ? compileSignals(signalsDocument, options) : undefined,
    signalsDocument,
    files,
  };
}
