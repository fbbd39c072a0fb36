// SHA-256 of executables, cached by (device, inode, mtime) so each binary is read once per version.
import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync, statSync } from 'node:fs';

export interface ExeHashCacheOptions {
  /** Distinct binaries remembered; the least recently used is forgotten beyond it. */
  readonly maxEntries?: number;
  /** Larger files are not hashed (reading them would stall the pipeline). */
  readonly maxFileBytes?: number;
}

export class ExeHashCache {
  private readonly cache = new Map<string, string | null>();
  private readonly maxEntries: number;
  private readonly maxFileBytes: number;
  hits = 0;
  misses = 0;

  constructor(opts: ExeHashCacheOptions = {}) {
    this.maxEntries = opts.maxEntries ?? 4096;
    this.maxFileBytes = opts.maxFileBytes ?? 256 * 1024 * 1024;
  }

  /**
   * The file's SHA-256 (hex), or undefined when it cannot be read (gone, not a file, too big).
   * Hashing is synchronous on purpose: binaries are few and cached, and a hash computed later
   * would arrive after the process row it belongs to was written.
   */
  sha256(path: string): string | undefined {
    let st;
    try {
      st = statSync(path, { bigint: true });
    } catch {
      return undefined;
    }
    if (!st.isFile()) return undefined;
    const key = `${st.dev}:${st.ino}:${st.mtimeNs}`;
    const cached = this.cache.get(key);
    if (cached !== undefined) {
      this.hits++;
      this.cache.delete(key); // move to the back: most recently used
      this.cache.set(key, cached);
      return cached ?? undefined;
    }
    this.misses++;
    const hash = st.size > BigInt(this.maxFileBytes) ? null : hashFile(path);
    this.cache.set(key, hash);
    if (this.cache.size > this.maxEntries) this.cache.delete(this.cache.keys().next().value as string);
    return hash ?? undefined;
  }

  clear(): void {
    this.cache.clear();
  }

  get size(): number {
    return this.cache.size;
  }
}

function hashFile(path: string): string | null {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return null;
  }
  try {
    const h = createHash('sha256');
    const buf = Buffer.allocUnsafe(1024 * 1024);
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
    }
    return h.digest('hex');
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}
