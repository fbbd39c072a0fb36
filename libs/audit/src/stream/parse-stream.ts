// Streaming API: a Node Readable or an async iterable of text chunks → async iterable of events.
import { StringDecoder } from 'node:string_decoder';
import type { AssemblerOptions, AuditEvent, AuditParseError, AuditStats } from '../types';
import { AuditAssembler } from '../assembly/assembler';

/** Options of {@link parseAuditStream}. */
export interface ParseStreamOptions extends AssemblerOptions {
  /** Called for every line that could not be parsed (also collected in `errors`). */
  onError?: (error: AuditParseError) => void;
}

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
  input: NodeJS.ReadableStream | AsyncIterable<string | Buffer>,
  options: ParseStreamOptions = {},
): AuditEventStream {
  let ready: AuditEvent[] = [];
  const assembler = new AuditAssembler({ onEvent: (e) => ready.push(e), onError: options.onError }, options);
  async function* events(): AsyncGenerator<AuditEvent> {
    const decoder = new StringDecoder('utf8');
    let rest = '';
    for await (const chunk of input as AsyncIterable<string | Buffer>) {
      const text = rest + (typeof chunk === 'string' ? chunk : decoder.write(chunk));
      let start = 0;
      for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
        assembler.push(text.slice(start, nl));
        start = nl + 1;
      }
      rest = text.slice(start);
      assembler.expire();
      if (ready.length > 0) {
        const batch = ready;
        ready = [];
        yield* batch;
      }
    }
    rest += decoder.end();
    if (rest.length > 0) assembler.push(rest);
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
