// Push-style event assembler: lines in, interpreted events out through callbacks (hot path).
import type { AssemblerOptions, AssemblerSinks, AuditParseError, AuditRecord, AuditStats } from '../types';
import { isUserMessage, parseError, parseRecordOrReason } from '../records/parse-record';
import { interpretEvent } from '../interpretation/interpret';

/** Defaults of {@link AssemblerOptions}. */
export const DEFAULT_ASSEMBLER_OPTIONS = {
  graceMs: 2000, // ausearch's window for late records
  graceEvents: 32,
  timeoutMs: 5000,
  maxOpenEvents: 5000, // SPEC 2.6 PendingEventCap
  maxErrorsKept: 1000,
} as const;

/** Records of one (node, timestamp, serial) still waiting for their end. */
interface OpenEvent {
  readonly node: string | undefined;
  readonly timestamp: number;
  readonly serial: number;
  readonly records: AuditRecord[];
  /** Order in which events were opened; grace counts events opened after this one. */
  readonly seq: number;
  /** Injected-clock time of the first record, for `expire()`. */
  readonly openedAt: number;
  /** Age list (oldest first), for grace, expiry and eviction. */
  older: OpenEvent | undefined;
  newer: OpenEvent | undefined;
  /** Other open events with the same serial (other node or timestamp). */
  sameSerial: OpenEvent | undefined;
}

/**
 * Synchronous assembler for hot paths (e.g. an audispd plugin reading stdin).
 *
 * Records sharing (node, timestamp, serial) form one event. An event completes on its EOE
 * record (a user-space message, `msg='…'`, is a whole event by itself); or once a newer event
 * has opened and either stream time (record timestamps) moved `graceMs` past it or
 * `graceEvents` newer events opened (late records of interleaved events still join); or on
 * `expire()` after `timeoutMs` of wall-clock time; or on `flush()`. At most
 * `maxOpenEvents` stay open: beyond that the oldest is emitted with `incomplete: true`.
 *
 * @example
 * const asm = new AuditAssembler({ onEvent: (e) => store(e) });
 * for (const line of lines) asm.push(line);
 * asm.flush();
 */
export class AuditAssembler {
  /** Counters so far. */
  readonly stats: AuditStats = { lines: 0, records: 0, events: 0, malformed: 0, evictedIncomplete: 0, timedOut: 0 };
  /** The first `maxErrorsKept` parse errors (all are counted in `stats.malformed`). */
  readonly errors: AuditParseError[] = [];

  /** Open events by serial (a number key: no string building per record), chained on collision. */
  private readonly bySerial = new Map<number, OpenEvent>();
  private oldest: OpenEvent | undefined;
  private newest: OpenEvent | undefined;
  private size = 0;
  private last: OpenEvent | undefined;
  private seq = 0;
  private streamTime = 0;
  private readonly graceMs: number;
  private readonly graceEvents: number;
  private readonly timeoutMs: number;
  private readonly maxOpen: number;
  private readonly maxErrorsKept: number;
  private readonly clock: () => number;
  private readonly onEvent: AssemblerSinks['onEvent'];
  private readonly onError: AssemblerSinks['onError'];

  constructor(sinks: AssemblerSinks, options: AssemblerOptions = {}) {
    this.onEvent = sinks.onEvent;
    this.onError = sinks.onError;
    this.graceMs = options.graceMs ?? DEFAULT_ASSEMBLER_OPTIONS.graceMs;
    this.graceEvents = options.graceEvents ?? DEFAULT_ASSEMBLER_OPTIONS.graceEvents;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_ASSEMBLER_OPTIONS.timeoutMs;
    this.maxOpen = Math.max(1, options.maxOpenEvents ?? DEFAULT_ASSEMBLER_OPTIONS.maxOpenEvents);
    this.maxErrorsKept = options.maxErrorsKept ?? DEFAULT_ASSEMBLER_OPTIONS.maxErrorsKept;
    this.clock = options.clock ?? Date.now;
  }

  /** Feeds one line (trailing CR/LF ignored). Blank lines are counted and skipped. */
  push(line: string): void {
    const lineNumber = ++this.stats.lines;
    if (isBlank(line)) return;
    const r = parseRecordOrReason(line, lineNumber);
    if (typeof r === 'string') {
      this.reportError(parseError(line, lineNumber, r));
      return;
    }
    this.pushRecord(r);
  }

  /** Counts and reports a line the reader skipped because it exceeded `limit` characters. */
  pushTooLong(limit: number): void {
    const lineNumber = ++this.stats.lines;
    this.reportError(parseError('', lineNumber, `line longer than ${limit} characters`));
  }

  /** Feeds an already parsed record. */
  pushRecord(record: AuditRecord): void {
    this.stats.records++;
    let ev = this.last;
    if (ev === undefined || ev.serial !== record.serial || ev.timestamp !== record.timestamp || ev.node !== record.node) {
      ev = this.find(record);
      if (ev === undefined) {
        if (record.timestamp > this.streamTime) this.streamTime = record.timestamp;
        this.completeGraced();
        ev = this.openEvent(record);
        if (this.size > this.maxOpen) this.evictOldest();
      }
      this.last = ev;
    }
    ev.records.push(record);
    // EOE ends a kernel event; a user-space message opening an event is the whole event (as in ausearch).
    if (record.type === 'EOE' || (ev.records.length === 1 && isUserMessage(record))) this.complete(ev, false);
  }

  /** Emits every open event older than `timeoutMs` by the injected clock. */
  expire(): void {
    const cutoff = this.clock() - this.timeoutMs;
    for (let ev = this.oldest; ev !== undefined && ev.openedAt <= cutoff; ev = this.oldest) {
      this.stats.timedOut++;
      this.complete(ev, false);
    }
  }

  /** Emits every open event (end of input). */
  flush(): void {
    while (this.oldest !== undefined) this.complete(this.oldest, false);
  }

  /** Number of events currently open. */
  get openEvents(): number {
    return this.size;
  }

  private find(r: AuditRecord): OpenEvent | undefined {
    let ev = this.bySerial.get(r.serial);
    while (ev !== undefined && (ev.timestamp !== r.timestamp || ev.node !== r.node)) ev = ev.sameSerial;
    return ev;
  }

  private openEvent(r: AuditRecord): OpenEvent {
    const ev: OpenEvent = {
      node: r.node,
      timestamp: r.timestamp,
      serial: r.serial,
      records: [],
      seq: this.seq++,
      openedAt: this.clock(),
      older: this.newest,
      newer: undefined,
      sameSerial: this.bySerial.get(r.serial),
    };
    this.bySerial.set(r.serial, ev);
    if (this.newest !== undefined) this.newest.newer = ev;
    else this.oldest = ev;
    this.newest = ev;
    this.size++;
    return ev;
  }

  private unlink(ev: OpenEvent): void {
    const head = this.bySerial.get(ev.serial);
    if (head === ev) {
      if (ev.sameSerial === undefined) this.bySerial.delete(ev.serial);
      else this.bySerial.set(ev.serial, ev.sameSerial);
    } else {
      let p = head;
      while (p !== undefined && p.sameSerial !== ev) p = p.sameSerial;
      if (p !== undefined) p.sameSerial = ev.sameSerial;
    }
    if (ev.older !== undefined) ev.older.newer = ev.newer;
    else this.oldest = ev.newer;
    if (ev.newer !== undefined) ev.newer.older = ev.older;
    else this.newest = ev.older;
    ev.older = ev.newer = ev.sameSerial = undefined;
    this.size--;
  }

  private reportError(err: AuditParseError): void {
    this.stats.malformed++;
    if (this.errors.length < this.maxErrorsKept) this.errors.push(err);
    this.onError?.(err);
  }

  /** Completes the oldest open events that a newly opened event has graced out. */
  private completeGraced(): void {
    const minSeq = this.seq - this.graceEvents;
    const minTime = this.streamTime - this.graceMs;
    for (let ev = this.oldest; ev !== undefined; ev = this.oldest) {
      if (ev.seq > minSeq && ev.timestamp >= minTime) break;
      this.complete(ev, false);
    }
  }

  private evictOldest(): void {
    const oldest = this.oldest;
    if (oldest === undefined) return;
    this.stats.evictedIncomplete++;
    this.complete(oldest, true);
  }

  private complete(ev: OpenEvent, incomplete: boolean): void {
    this.unlink(ev);
    if (this.last === ev) this.last = undefined;
    this.stats.events++;
    this.onEvent(interpretEvent(ev.records, incomplete));
  }
}

function isBlank(line: string): boolean {
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c !== 32 && c !== 9 && c !== 10 && c !== 13) return false;
  }
  return true;
}
