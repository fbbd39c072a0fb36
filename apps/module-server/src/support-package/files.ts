// Atomic file writes (temp + fsync + rename) with the mode set at creation (STYLE: Data).
import { closeSync, fsyncSync, openSync, renameSync, writeSync } from 'node:fs';

export function writeAtomic(path: string, text: string | Buffer, mode: number): void {
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w', mode);
  try {
    writeSync(fd, typeof text === 'string' ? Buffer.from(text) : text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}
