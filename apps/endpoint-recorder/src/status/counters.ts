// Running totals the recorder keeps in monitor.db meta, so `recorder --status` can report them.
import type { MonitorDb } from '@dc/monitor-db';
import type { PipelineStats } from '../pipeline/pipeline';

export const COUNTERS_META_KEY = 'recorder_counters';

export interface StoredCounters {
  recorded: Record<string, number>;
  filtered: Record<string, number>;
  /** Dropped because PendingEventCap was reached (SPEC 2.6). */
  dropped: Record<string, number>;
  droppedTotal: number;
  malformedLines: number;
  auditLines: number;
  auditEvents: number;
  /** SPEC 2.6 MaxFileHandlesPerProcess: descriptors forgotten because a process held more. */
  fileHandlesEvicted: number;
  /** fd-based file events (write, ftruncate, fchmod…) named through a tracked descriptor. */
  pathsFromFileHandles: number;
  /** SPEC 2.6 ConfirmFileWrites: writes dropped because the file's mtime had not changed. */
  unconfirmedWritesDropped: number;
  /** ConfirmFileWrites: writes kept although the file was gone (nothing to compare). */
  writesToMissingFiles: number;
  updatedAt: number;
}

const empty = (): StoredCounters => ({ recorded: {}, filtered: {}, dropped: {}, droppedTotal: 0, malformedLines: 0, auditLines: 0, auditEvents: 0, fileHandlesEvicted: 0, pathsFromFileHandles: 0, unconfirmedWritesDropped: 0, writesToMissingFiles: 0, updatedAt: 0 });

export function readCounters(db: MonitorDb): StoredCounters {
  const text = db.getMeta(COUNTERS_META_KEY);
  if (!text) return empty();
  try {
    return { ...empty(), ...(JSON.parse(text) as Partial<StoredCounters>) };
  } catch {
    return empty(); // a damaged value must not break status
  }
}

/** Adds the difference between two snapshots of one run to the stored totals. */
export function addCounters(db: MonitorDb, now: PipelineStats, before: PipelineStats | undefined): void {
  const total = readCounters(db);
  let changed = false;
  const add = (bag: Record<string, number>, key: string, n: number) => {
    if (n === 0) return;
    bag[key] = (bag[key] ?? 0) + n;
    changed = true;
  };
  for (const [family, c] of Object.entries(now.families)) {
    const b = before?.families[family];
    add(total.recorded, family, c.recorded - (b?.recorded ?? 0));
    add(total.filtered, family, c.filtered - (b?.filtered ?? 0));
    add(total.dropped, family, c.dropped - (b?.dropped ?? 0));
  }
  const delta = (a: number, b: number | undefined) => {
    const d = a - (b ?? 0);
    if (d !== 0) changed = true;
    return d;
  };
  total.droppedTotal += delta(now.dropped, before?.dropped);
  total.malformedLines += delta(now.audit.malformed, before?.audit.malformed);
  total.auditLines += delta(now.audit.lines, before?.audit.lines);
  total.auditEvents += delta(now.audit.events, before?.audit.events);
  total.fileHandlesEvicted += delta(now.fileHandles.evicted, before?.fileHandles.evicted);
  total.pathsFromFileHandles += delta(now.fileHandles.resolved, before?.fileHandles.resolved);
  total.unconfirmedWritesDropped += delta(now.writeConfirmation.unconfirmed, before?.writeConfirmation.unconfirmed);
  total.writesToMissingFiles += delta(now.writeConfirmation.missing, before?.writeConfirmation.missing);
  if (!changed) return;
  total.updatedAt = db.clock.now();
  db.setMeta(COUNTERS_META_KEY, JSON.stringify(total));
}
