// Push-style event assembler: lines in, interpreted events out through callbacks (hot path).
import type { AssemblerOptions, AssemblerSinks, AuditParseError, AuditRecord, AuditStats } from '../types';

/** Defaults of {@link AssemblerOptions}. */
export const DEFAULT_ASSEMBLER_OPTIONS = {
  graceMs: 2000, // ausearch's window for late records
  timeoutMs: 5000,
  maxOpenEvents: 5000, // SPEC 2.6 PendingEventCap
  maxErrorsKept: 1000,
} as const;

/**
 * Synchronous assembler for hot paths (e.g. an audispd plugin reading stdin).
 *
 * @example
 * const asm = new AuditAssembler({ onEvent: (e) => store(e) });
 * for (const line of lines) asm.push(line);
 * asm.flush();
 */
export class AuditAssembler {
  /** Counters so far. */
  readonly stats: AuditStats = { lines: 0, records: 0, events: 0, malformed: 0, evictedIncomplete: 0, timedOut: 0 };
  /** The first `maxErrorsKept` parse errors. */
  readonly errors: AuditParseError[] = [];

  constructor(sinks: AssemblerSinks, options: AssemblerOptions = {}) {
    void sinks;
    void options;
    throw new Error('AuditAssembler: not implemented yet');
  }

  /** Feeds one line (without its newline). Emits any events it completes. */
  push(line: string): void {
    void line;
  }

  /** Feeds an already parsed record. */
  pushRecord(record: AuditRecord): void {
    void record;
  }

  /** Emits, incomplete, every open event older than `timeoutMs` by the injected clock. */
  expire(): void {}

  /** Emits every open event (end of input). */
  flush(): void {}

  /** Number of events currently open. */
  get openEvents(): number {
    return 0;
  }
}
