// Helpers for this library's tests (not exported): temp dirs, a driven clock and timers, records.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Clock } from './monitor-db';
import type { FileEventRecord, ProcessStartRecord } from './records';
import type { Timers } from './writer/batch-writer';

export function tempDir(): { dir: string; dbPath: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'monitor-db-'));
  return { dir, dbPath: join(dir, 'monitor.db'), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export class ManualClock implements Clock {
  constructor(public t = Date.UTC(2026, 0, 1)) {}
  now(): number {
    return this.t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
}

/** Timers that fire only when the test advances them. */
export class ManualTimers implements Timers {
  private pending: { at: number; fn: () => void; id: number }[] = [];
  private nextId = 1;
  private t = 0;
  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.pending.push({ at: this.t + ms, fn, id });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.pending = this.pending.filter((p) => p.id !== handle);
  }
  get scheduled(): number {
    return this.pending.length;
  }
  advance(ms: number): void {
    this.t += ms;
    for (;;) {
      const due = this.pending.filter((p) => p.at <= this.t).sort((a, b) => a.at - b.at)[0];
      if (!due) return;
      this.pending = this.pending.filter((p) => p !== due);
      due.fn();
    }
  }
}

export function startRecord(pid: number, time: number, extra: Partial<ProcessStartRecord> = {}): ProcessStartRecord {
  return {
    kind: 'process-start', time, pid, ppid: 1, exe: `/usr/bin/prog${pid}`, argv: [`prog${pid}`, '--flag'],
    cwd: '/', uid: 1000, euid: 1000, auid: 1000, user: 'alice', comm: `prog${pid}`,
    exeSha256: 'a'.repeat(64), ...extra,
  };
}

export function fileRecord(pid: number, time: number, path: string, extra: Partial<FileEventRecord> = {}): FileEventRecord {
  return { kind: 'file', time, process: { pid }, operation: 'write', path, ...extra };
}
