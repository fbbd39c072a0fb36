// Follows an audit.log like `tail -F`: reads what is appended and survives rotation and truncation.
import { promises as fsp } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { LineSplitter } from './line-splitter';

export interface FollowOptions {
  /** How often to look for new data once at the end of the file. */
  readonly pollMs?: number;
  /** Start at the beginning instead of the current end (default: end, like tail -F). */
  readonly fromStart?: boolean;
  readonly signal?: AbortSignal;
  /** Told when the file was replaced (rotation) or truncated. */
  readonly onReopen?: (reason: 'rotated' | 'truncated') => void;
  /** Told each time a file is opened, with the offset reading starts from. */
  readonly onOpen?: (position: number) => void;
}

const CHUNK = 256 * 1024;

async function statOrNull(path: string) {
  try {
    return await fsp.stat(path);
  } catch {
    return null;
  }
}

async function pause(ms: number, signal?: AbortSignal): Promise<boolean> {
  try {
    await delay(ms, undefined, { signal });
    return true;
  } catch {
    return false; // aborted
  }
}

/**
 * Yields batches of complete lines. Rotation is noticed by the path pointing at another inode:
 * the old file is drained to its end first, so nothing written before the rename is lost.
 */
export async function* followFile(path: string, opts: FollowOptions = {}): AsyncGenerator<string[]> {
  const pollMs = opts.pollMs ?? 250;
  const buf = Buffer.allocUnsafe(CHUNK);
  let handle: fsp.FileHandle | null = null;
  let ino = -1;
  let position = 0;
  let splitter = new LineSplitter();
  let first = true;
  try {
    while (!opts.signal?.aborted) {
      if (!handle) {
        const st = await statOrNull(path);
        if (!st) {
          if (!(await pause(pollMs, opts.signal))) return;
          continue;
        }
        handle = await fsp.open(path, 'r');
        const opened = await handle.stat();
        ino = opened.ino;
        position = first && !opts.fromStart ? opened.size : 0;
        first = false;
        opts.onOpen?.(position);
      }
      const { bytesRead } = await handle.read(buf, 0, CHUNK, position);
      if (bytesRead > 0) {
        position += bytesRead;
        const lines = splitter.push(buf.subarray(0, bytesRead));
        if (lines.length) yield lines;
        continue;
      }
      const current = await statOrNull(path);
      if (current && current.ino !== ino) {
        // Rotated. Lines can reach the old file between the read above and the stat (the writer
        // still held it): read it again, and switch only once a read after the rename finds nothing.
        const late = await handle.read(buf, 0, CHUNK, position);
        if (late.bytesRead > 0) {
          position += late.bytesRead;
          const lines = splitter.push(buf.subarray(0, late.bytesRead));
          if (lines.length) yield lines;
          continue;
        }
        const rest = splitter.end();
        if (rest.length) yield rest;
        await handle.close();
        handle = null;
        splitter = new LineSplitter();
        opts.onReopen?.('rotated');
        continue;
      }
      if (current && current.size < position) {
        position = 0; // truncated in place (copytruncate)
        splitter = new LineSplitter();
        opts.onReopen?.('truncated');
        continue;
      }
      if (!(await pause(pollMs, opts.signal))) return;
    }
  } finally {
    await handle?.close();
  }
}
