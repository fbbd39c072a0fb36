// A pino destination that writes recorder.log synchronously and rotates it by size (SPEC 2.5
// logMaxSize / logRotations): recorder.log → recorder.log.1 → … → recorder.log.N, oldest deleted.
//
// Why not pino-roll: it rotates in a worker-thread transport (lines can be lost on a crash, one
// more thread per process) and is not installed; size rotation is a few lines done in-process.
import { closeSync, existsSync, fstatSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';

export interface RotatingFileOptions {
  readonly path: string;
  /** Rotate before a write would take the file past this many bytes. */
  readonly maxSize: number;
  /** Rotated files kept (0: the file is simply started afresh). */
  readonly rotations: number;
}

export class RotatingFile {
  private fd: number;
  private size: number;
  maxSize: number;
  rotations: number;

  constructor(private readonly opts: RotatingFileOptions) {
    this.maxSize = opts.maxSize;
    this.rotations = opts.rotations;
    this.fd = openSync(opts.path, 'a', 0o640);
    this.size = fstatSync(this.fd).size;
  }

  /** pino calls this with one serialised line at a time. */
  write(line: string): boolean {
    const bytes = Buffer.byteLength(line);
    if (this.size > 0 && this.size + bytes > this.maxSize) this.rotate();
    writeSync(this.fd, line);
    this.size += bytes;
    return true;
  }

  rotate(): void {
    closeSync(this.fd);
    const { path } = this.opts;
    if (this.rotations === 0) {
      unlinkSync(path);
    } else {
      const oldest = `${path}.${this.rotations}`;
      if (existsSync(oldest)) unlinkSync(oldest);
      for (let i = this.rotations - 1; i >= 1; i--) {
        if (existsSync(`${path}.${i}`)) renameSync(`${path}.${i}`, `${path}.${i + 1}`);
      }
      renameSync(path, `${path}.1`);
    }
    this.fd = openSync(path, 'a', 0o640);
    this.size = 0;
  }

  close(): void {
    closeSync(this.fd);
  }
}
