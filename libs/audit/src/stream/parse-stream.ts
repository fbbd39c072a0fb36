// Streaming API: a Node Readable or an async iterable of text chunks → async iterable of events.
import type { AssemblerOptions, AuditEvent, AuditParseError, AuditStats } from '../types';

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
 * Parses, assembles and interprets an audit text stream. Chunks may split lines anywhere;
 * `Buffer` chunks are read as UTF-8 (and hex-encoded values keep their raw bytes).
 * Unparseable lines are counted and reported, never fatal.
 */
export function parseAuditStream(
  input: NodeJS.ReadableStream | AsyncIterable<string | Buffer>,
  options: ParseStreamOptions = {},
): AuditEventStream {
  void input;
  void options;
  throw new Error('parseAuditStream: not implemented yet');
}
