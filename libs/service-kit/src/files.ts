// Atomic file writes for keys, tokens, certificates and configuration (STYLE: temp, fsync, rename).
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

export interface WriteFileAtomicOptions {
  /** File mode, set when the file is created (never a moment readable by others). Default 0600. */
  readonly mode?: number;
  /** Mode of directories created on the way. Default 0700. */
  readonly dirMode?: number;
}

/**
 * Writes `data` to `path` so that a reader sees the old file or the whole new one, never a part,
 * and a crash leaves one of the two: a temp file beside it (created exclusively, with its final
 * mode), fsync, rename over, fsync of the directory.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array, opts: WriteFileAtomicOptions = {}): void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true, mode: opts.dirMode ?? 0o700 });
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const fd = openSync(tmp, 'wx', opts.mode ?? 0o600);
  try {
    if (typeof data === 'string') writeSync(fd, data);
    else writeSync(fd, data);
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, path);
  } catch (err) {
    try {
      closeSync(fd);
    } catch {
      // already closed
    }
    rmSync(tmp, { force: true });
    throw err;
  }
  const dirFd = openSync(dir, 'r');
  try {
    fsyncSync(dirFd);
  } finally {
    closeSync(dirFd);
  }
}
