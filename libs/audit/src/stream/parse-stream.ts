// Streaming API: a Node Readable or an async iterable of text chunks → async iterable of events.
import { StringDecoder } from 'node:string_decoder';
import type { AssemblerOptions, AuditEvent, AuditParseError, AuditStats } from '../types';
import { AuditAssembler } from '../assembly/assembler';

/** Options of {@link parseAuditStream}. */
export interface ParseStreamOptions extends AssemblerOptions {
  /** Called for every line that could not be parsed (also collected in `errors`). */
  onError?: (error: AuditParseError) => void;
  /** Longer lines are reported as malformed and skipped without being held in memory. Default 1 MiB. */
  maxLineLength?: number;
}

/** Default {@link ParseStreamOptions.maxLineLength}: far above the kernel's 8970-byte audit message limit. */
export const DEFAULT_MAX_LINE_LENGTH = 1 << 20;

/** The events of a stream, plus its counters and error report (final once iteration ends). */
export interface AuditEventStream extends AsyncIterable<AuditEvent> {
  readonly stats: AuditStats;
  readonly errors: readonly AuditParseError[];
}

/**
 * Parses, assembles and interprets an audit text stream. Chunks may split lines (and UTF-8
 * sequences) anywhere; `Buffer` chunks are decoded as UTF-8. Unparseable lines are counted and
 * reported, never fatal. Open events are checked against `timeoutMs` after every chunk and all
 * are emitted when the input ends. Iterate once.
 *
 * @example
 * const events = parseAuditStream(fs.createReadStream('/var/log/audit/audit.log'));
 * for await (const e of events) if (e.kind === 'process-start') console.log(e.argv);
 * console.log(events.stats, events.errors);
 */
export function parseAuditStream(
  input: NodeJS.ReadableStream | AsyncIterable<string | Buffer> | Iterable<string | Buffer>,
  options: ParseStreamOptions = {},
): AuditEventStream {
  const iterator = new EventIterator(input, options);
  return {
    stats: iterator.assembler.stats,
    errors: iterator.assembler.errors,
    [Symbol.asyncIterator]: () => iterator,
  };
}

/**
 * Pulls chunks only when its queue of ready events is empty, and hands queued events out without
 * generator machinery (an async generator's yield per event costs more than parsing a record).
 */
class EventIterator implements AsyncIterator<AuditEvent> {
  readonly assembler: AuditAssembler;
  private queue: AuditEvent[] = [];
  private head = 0;
  private finished = false;
  private readonly source: Iterator<string | Buffer> | AsyncIterator<string | Buffer>;
  private readonly lines: LineSplitter;

  constructor(input: NodeJS.ReadableStream | AsyncIterable<string | Buffer> | Iterable<string | Buffer>, options: ParseStreamOptions) {
    this.assembler = new AuditAssembler({ onEvent: (e) => this.queue.push(e), onError: options.onError }, options);
    this.lines = new LineSplitter(this.assembler, options.maxLineLength ?? DEFAULT_MAX_LINE_LENGTH);
    const asyncIt = (input as AsyncIterable<string | Buffer>)[Symbol.asyncIterator];
    this.source =
      typeof asyncIt === 'function'
        ? asyncIt.call(input)
        : (input as Iterable<string | Buffer>)[Symbol.iterator]();
  }

  next(): Promise<IteratorResult<AuditEvent>> {
    if (this.head < this.queue.length) return Promise.resolve({ value: this.queue[this.head++], done: false });
    return this.fill();
  }

  async return(): Promise<IteratorResult<AuditEvent>> {
    this.finished = true;
    this.queue = [];
    this.head = 0;
    await this.source.return?.();
    return { value: undefined, done: true };
  }

  private async fill(): Promise<IteratorResult<AuditEvent>> {
    while (this.head >= this.queue.length) {
      if (this.finished) return { value: undefined, done: true };
      this.queue = [];
      this.head = 0;
      const r = await this.source.next();
      if (r.done === true) {
        this.lines.end();
        this.assembler.flush();
        this.finished = true;
      } else {
        this.lines.write(r.value);
        this.assembler.expire();
      }
    }
    return { value: this.queue[this.head++], done: false };
  }
}

/** Splits text chunks into lines for the assembler; pieces of a line are joined once, and over-long lines are dropped. */
class LineSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private pending: string[] = [];
  private pendingLength = 0;
  private overlong = false;

  constructor(
    private readonly assembler: AuditAssembler,
    private readonly maxLine: number,
  ) {}

  write(chunk: string | Buffer): void {
    const text = typeof chunk === 'string' ? chunk : this.decoder.write(chunk);
    let start = 0;
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
      if (this.pendingLength + nl - start > this.maxLine) this.overlong = true;
      this.endLine(this.overlong ? '' : text.slice(start, nl));
      start = nl + 1;
    }
    this.keep(start === 0 ? text : text.slice(start));
  }

  end(): void {
    this.keep(this.decoder.end());
    if (this.pendingLength > 0 || this.overlong) this.endLine('');
  }

  private endLine(last: string): void {
    if (this.overlong) {
      this.assembler.pushTooLong(this.maxLine);
      this.overlong = false;
    } else {
      this.assembler.push(this.pending.length === 0 ? last : this.pending.join('') + last);
    }
    this.pending = [];
    this.pendingLength = 0;
  }

  private keep(piece: string): void {
    if (this.overlong || piece.length === 0) return;
    this.pendingLength += piece.length;
    if (this.pendingLength > this.maxLine) {
      this.overlong = true; // drop the rest of this line: memory stays bounded
      this.pending = [];
    } else this.pending.push(piece);
  }
}
