// The batched writer: records queue in memory and are saved in one transaction per batch every
// BatchWriteDelayMS (SPEC 2.6), so the recorder pays one commit per batch, not per event.
import { performance } from 'node:perf_hooks';
import type { Connection } from '../connection';
import { InvalidMonitorInput, MonitorDbError } from '../errors';
import type { MonitorRecord } from '../records';
import { validateRecord } from './validate-record';
import { ProcessCache, writeRecord } from './write-records';

/** Timer functions, injectable so tests drive batching without sleeping. */
export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export interface BatchWriterOptions {
  /** Delay between batched saves; 0 writes every record at once. SPEC 2.6: default 1000, 0–5000. */
  batchWriteDelayMs?: number;
  /** A batch is saved early once this many records are queued (bounds memory and commit size). */
  maxBatchSize?: number;
  /** Matches kept per signal (RecordSignalMatches, SPEC 2.6: default 5). 0 keeps none. */
  recordSignalMatches?: number;
  timers?: Timers;
  /** Called after each batch commits. */
  onFlush?: (result: FlushResult) => void;
  /** Called when a batch could not be saved and was dropped. */
  onError?: (error: unknown, droppedRecords: number) => void;
}

export interface FlushResult {
  /** Increases by one per committed batch of this writer, from 1. */
  batchId: number;
  records: number;
  durationMs: number;
}

export interface WriterStats {
  pending: number;
  written: number;
  dropped: number;
  batches: number;
  failedBatches: number;
}

export const BATCH_WRITE_DELAY_MS_DEFAULT = 1000; // SPEC 2.6
const RECORD_SIGNAL_MATCHES_DEFAULT = 5; // SPEC 2.6
const MAX_BATCH_SIZE_DEFAULT = 5000;

/** @internal What a writer needs from its database; the connection may change after an archive. */
export interface WriterHost {
  connection(): Connection;
  now(): number;
  forget(writer: BatchWriter): void;
}

function checkRange(field: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new InvalidMonitorInput(field, `must be an integer from ${min} to ${max}`, value);
  }
}

export class BatchWriter {
  private queue: MonitorRecord[] = [];
  private timer: unknown = null;
  private closed = false;
  private readonly delayMs: number;
  private readonly maxBatchSize: number;
  private readonly keepMatches: number;
  private readonly timers: Timers;
  private readonly counts = { written: 0, dropped: 0, batches: 0, failedBatches: 0 };

  /** @internal Use MonitorDb.writer(). */
  constructor(
    private readonly host: WriterHost,
    private readonly options: BatchWriterOptions = {},
  ) {
    this.delayMs = options.batchWriteDelayMs ?? BATCH_WRITE_DELAY_MS_DEFAULT;
    checkRange('batchWriteDelayMs', this.delayMs, 0, 5000); // SPEC 2.6
    this.maxBatchSize = options.maxBatchSize ?? MAX_BATCH_SIZE_DEFAULT;
    checkRange('maxBatchSize', this.maxBatchSize, 1, 1_000_000);
    this.keepMatches = options.recordSignalMatches ?? RECORD_SIGNAL_MATCHES_DEFAULT;
    checkRange('recordSignalMatches', this.keepMatches, 0, 1_000_000);
    this.timers = options.timers ?? realTimers;
  }

  /** Queues one record; throws InvalidMonitorInput (naming the field) for a bad one. */
  add(record: MonitorRecord): void {
    if (this.closed) throw new MonitorDbError('the batched writer is closed');
    validateRecord(record);
    this.queue.push(record);
    if (this.delayMs === 0 || this.queue.length >= this.maxBatchSize) {
      this.flush();
    } else if (this.timer === null) {
      this.timer = this.timers.setTimeout(() => {
        this.timer = null;
        this.flush();
      }, this.delayMs);
    }
  }

  /** Records queued and not yet saved (the recorder compares this with PendingEventCap). */
  get pending(): number {
    return this.queue.length;
  }

  stats(): WriterStats {
    return { pending: this.queue.length, ...this.counts };
  }

  /**
   * Saves everything queued in one transaction. Returns the result, or null when nothing was
   * queued or the batch failed (reported to onError). A busy database keeps the batch queued.
   */
  flush(): FlushResult | null {
    if (this.timer !== null) {
      this.timers.clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.queue.length === 0) return null;
    const batch = this.queue;
    this.queue = [];
    const started = performance.now();
    try {
      const conn = this.host.connection();
      const s = conn.stmts;
      const now = this.host.now();
      const keep = this.keepMatches;
      conn.db.transaction(() => {
        const signalled = new Set<string>();
        const cache = new ProcessCache();
        for (const record of batch) {
          const written = writeRecord(s, record, cache);
          const signals = (record as { signals?: readonly string[] }).signals;
          if (keep > 0 && signals && written.family && written.eventId !== null) {
            for (const name of signals) {
              s.insertSignalMatch.run({
                time: record.time, signal_name: name, family: written.family,
                event_id: written.eventId, process_id: written.processId,
              });
              signalled.add(name);
            }
          }
        }
        for (const name of signalled) s.trimSignalMatches.run({ name, keep });
        s.addCounter.run({ key: 'events_written', n: batch.length, now });
      })();
    } catch (err) {
      if ((err as { code?: string }).code?.startsWith('SQLITE_BUSY')) {
        this.queue = batch.concat(this.queue);
        this.scheduleRetry();
        return null;
      }
      this.counts.failedBatches++;
      this.counts.dropped += batch.length;
      if (this.options.onError) this.options.onError(err, batch.length);
      else throw err;
      return null;
    }
    this.counts.batches++;
    this.counts.written += batch.length;
    const result = { batchId: this.counts.batches, records: batch.length, durationMs: performance.now() - started };
    this.options.onFlush?.(result);
    return result;
  }

  /** Saves what is queued and refuses further records. */
  close(): void {
    if (this.closed) return;
    try {
      this.flush();
    } finally {
      this.closed = true;
      this.host.forget(this);
    }
  }

  private scheduleRetry(): void {
    if (this.timer !== null || this.closed) return;
    this.timer = this.timers.setTimeout(() => {
      this.timer = null;
      this.flush();
    }, Math.max(this.delayMs, 100));
  }
}
