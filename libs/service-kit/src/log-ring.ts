// The most recent log lines kept in memory, bounded by count and bytes, for the support package
// (SPEC 1.7.1): a pino destination fed the serialised (already redacted) lines.
import type { DestinationStream } from 'pino';

export interface LogRingOptions {
  /** Most lines kept; the oldest go first. Default 5000. */
  readonly maxLines?: number;
  /** Most bytes (UTF-8, newlines excluded) kept; the oldest go first. Default 4 MiB. */
  readonly maxBytes?: number;
}

export const LOG_RING_DEFAULTS = { maxLines: 5000, maxBytes: 4 * 1024 * 1024 } as const;

/** A pino destination that keeps the newest lines; older ones and any single line over maxBytes are dropped. */
export class LogRing implements DestinationStream {
  readonly maxLines: number;
  readonly maxBytes: number;
  // A circular buffer: `lines[(start + i) % maxLines]` is the i-th oldest of `count` lines.
  private readonly lines: Array<string | undefined>;
  private readonly sizes: number[];
  private start = 0;
  private count = 0;
  private bytesHeld = 0;
  private droppedLines = 0;

  constructor(options: LogRingOptions = {}) {
    this.maxLines = options.maxLines ?? LOG_RING_DEFAULTS.maxLines;
    this.maxBytes = options.maxBytes ?? LOG_RING_DEFAULTS.maxBytes;
    if (!Number.isInteger(this.maxLines) || this.maxLines < 1) throw new Error(`recent log maxLines ${String(this.maxLines)} must be a whole number of at least 1`);
    if (!Number.isInteger(this.maxBytes) || this.maxBytes < 1) throw new Error(`recent log maxBytes ${String(this.maxBytes)} must be a whole number of at least 1`);
    this.lines = new Array<string | undefined>(this.maxLines);
    this.sizes = new Array<number>(this.maxLines).fill(0);
  }

  /** Called by pino with one serialised line (ending in a newline) per log call. */
  write(chunk: string): void {
    if (chunk.length > 1 && chunk.indexOf('\n') === chunk.length - 1) {
      this.push(chunk.slice(0, -1)); // pino's usual write: exactly one line
      return;
    }
    for (const raw of chunk.split('\n')) {
      if (raw) this.push(raw);
    }
  }

  private push(line: string): void {
    const size = Buffer.byteLength(line);
    if (size > this.maxBytes) {
      this.droppedLines++;
      return;
    }
    if (this.count === this.maxLines) this.evictOldest();
    while (this.bytesHeld + size > this.maxBytes) this.evictOldest();
    const at = (this.start + this.count) % this.maxLines;
    this.lines[at] = line;
    this.sizes[at] = size;
    this.count++;
    this.bytesHeld += size;
  }

  private evictOldest(): void {
    this.bytesHeld -= this.sizes[this.start]!;
    this.lines[this.start] = undefined;
    this.start = (this.start + 1) % this.maxLines;
    this.count--;
    this.droppedLines++;
  }

  /** The lines held, oldest first, each one JSON object without its newline. */
  recent(): string[] {
    const out: string[] = [];
    for (let i = 0; i < this.count; i++) out.push(this.lines[(this.start + i) % this.maxLines]!);
    return out;
  }

  /** Lines held, bytes held, and lines dropped since start (evicted or too large). */
  stats(): { lines: number; bytes: number; dropped: number } {
    return { lines: this.count, bytes: this.bytesHeld, dropped: this.droppedLines };
  }
}
