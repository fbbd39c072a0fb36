// SPEC 2.6 ConfirmFileWrites: a file write is recorded only when the file's modification time
// changed since the last write the recorder saw for that path.
import { statSync } from 'node:fs';

/** The file's mtime in ms, or undefined when it does not exist (or cannot be examined). */
export type MtimeOf = (path: string) => number | undefined;

export const statMtime: MtimeOf = (path) => {
  try {
    return statSync(path, { throwIfNoEntry: false })?.mtimeMs;
  } catch {
    return undefined; // EACCES, ENOTDIR…: nothing to compare, the event is kept
  }
};

/** What the check found: `changed` (first sighting included), `unchanged`, or `missing`. */
export type WriteCheck = { readonly verdict: 'changed'; readonly mtime: number } | { readonly verdict: 'unchanged' } | { readonly verdict: 'missing' };

export interface WriteConfirmStats {
  /** Writes dropped because the mtime had not changed. */
  readonly unconfirmed: number;
  /** Writes kept although the file no longer existed (nothing to compare). */
  readonly missing: number;
  readonly rememberedPaths: number;
}

/**
 * Remembers the last mtime seen per path, at most `maxPaths` of them (least recently used
 * forgotten first; a forgotten path counts as a first sighting again).
 */
export class WriteConfirmer {
  private readonly seen = new Map<string, number>();
  private unconfirmed = 0;
  private missing = 0;

  constructor(
    private readonly mtimeOf: MtimeOf = statMtime,
    private readonly maxPaths = 65_536,
  ) {}

  check(path: string): WriteCheck {
    const mtime = this.mtimeOf(path);
    const before = this.seen.get(path);
    this.seen.delete(path);
    if (mtime === undefined) {
      this.missing++;
      return { verdict: 'missing' };
    }
    this.seen.set(path, mtime);
    if (this.seen.size > this.maxPaths) this.seen.delete(this.seen.keys().next().value as string);
    if (before === mtime) {
      this.unconfirmed++;
      return { verdict: 'unchanged' };
    }
    return { verdict: 'changed', mtime };
  }

  clear(): void {
    this.seen.clear();
  }

  stats(): WriteConfirmStats {
    return { unconfirmed: this.unconfirmed, missing: this.missing, rememberedPaths: this.seen.size };
  }
}
