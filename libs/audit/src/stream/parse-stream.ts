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
  let ready: AuditEvent[] = [];
  const assembler = new AuditAssembler({ onEvent: (e) => ready.push(e), onError: options.onError }, options);
  const maxLine = options.maxLineLength ?? DEFAULT_MAX_LINE_LENGTH;
  async function* events(): AsyncGenerator<AuditEvent> {
    const decoder = new StringDecoder('utf8');
    // Pieces of the current line; joined once its newline arrives (no quadratic re-concatenation).
    let pending: string[] = [];
    let pendingLength = 0;
    let overlong = false;
    const endLine = (last: string): void => {
      if (overlong) {
        assembler.pushTooLong(maxLine);
        overlong = false;
      } else {
        assembler.push(pending.length === 0 ? last : pending.join('') + last);
      }
      pending = [];
      pendingLength = 0;
    };
    const keep = (piece: string): void => {
      if (overlong || piece.length === 0) return;
      pendingLength += piece.length;
      if (pendingLength > maxLine) {
        overlong = true; // drop the rest of this line: memory stays bounded
        pending = [];
      } else pending.push(piece);
    };
    for await (const chunk of input as AsyncIterable<string | Buffer>) {
      const text = typeof chunk === 'string' ? chunk : decoder.write(chunk);
      let start = 0;
      for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
        if (pendingLength + nl - start > maxLine) overlong = true;
        endLine(overlong ? '' : text.slice(start, nl));
        start = nl + 1;
      }
      keep(start === 0 ? text : text.slice(start));
      assembler.expire();
      if (ready.length > 0) {
        const batch = ready;
        ready = [];
        yield* batch;
      }
    }
    keep(decoder.end());
    if (pendingLength > 0 || overlong) endLine('');
    assembler.flush();
    const batch = ready;
    ready = [];
    yield* batch;
  }
  const iterable = events();
  return {
    stats: assembler.stats,
    errors: assembler.errors,
    [Symbol.asyncIterator]: () => iterable,
  };
}
