// Decides whether a file event falls under the Integrity Monitor watchlist (SPEC 2.3).
import { PrefixTrie } from '../matchers/prefix-trie';
import type { FilterEvent, WatchlistDocument } from '../model';

/** The file-event fields the watchlist reads (the names `@dc/audit`'s `FileEvent` uses). */
export const WATCHLIST_FIELDS = { path: 'path', oldPath: 'oldPath', operation: 'operation' } as const;

/** A set of paths with "this path or anything below it" semantics. */
class PathSet {
  private readonly exact = new Set<string>();
  private readonly below = new PrefixTrie<true>();

  constructor(paths: readonly string[]) {
    for (const p of paths) {
      const last = p[p.length - 1];
      if (last === '/' || last === '\\') {
        this.below.add(p, true);
        continue;
      }
      // "/etc" covers "/etc" and "/etc/..." but not "/etcetera".
      this.exact.add(p);
      this.below.add(`${p}/`, true);
      if (p.includes('\\')) this.below.add(`${p}\\`, true);
    }
  }

  covers(path: string): boolean {
    return this.exact.has(path) || this.below.matchesAny(path);
  }
}

/** Compiled watchlist. */
export class WatchlistMatcher {
  private readonly paths: PathSet;
  private readonly exclusions: PathSet;
  private readonly operations: ReadonlySet<string>;

  constructor(doc: WatchlistDocument) {
    this.paths = new PathSet(doc.paths);
    this.exclusions = new PathSet(doc.exclusions);
    this.operations = new Set(doc.operations);
  }

  /**
   * True when a file event's `operation` is watched and its `path` (or, for a rename or link,
   * its `oldPath`) is under a watched path and not under an exclusion.
   */
  watches(event: FilterEvent): boolean {
    const op = event[WATCHLIST_FIELDS.operation];
    if (typeof op !== 'string' || !this.operations.has(op)) return false;
    return this.watchesPath(event[WATCHLIST_FIELDS.path]) || this.watchesPath(event[WATCHLIST_FIELDS.oldPath]);
  }

  private watchesPath(path: unknown): boolean {
    return typeof path === 'string' && this.paths.covers(path) && !this.exclusions.covers(path);
  }
}
