import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { openMonitorDb } from '../monitor-db';
import { FILE_OPERATIONS, type FileOperation } from '../records';
import { ManualClock, tempDir } from '../test-support';
import type { FileEventRow } from './rows';

describe('queryEvents paging', () => {
  it('returns every matching row exactly once, in order, whatever the page size, order and filter', () => {
    const tmp = tempDir();
    const clock = new ManualClock();
    const t0 = clock.now();
    try {
      fc.assert(
        fc.property(
          // Few distinct times, so many rows tie on time and the cursor must break ties by id.
          fc.array(fc.record({ dt: fc.integer({ min: 0, max: 20 }), op: fc.constantFrom<FileOperation>(...FILE_OPERATIONS.slice(0, 4)) }), { maxLength: 120 }),
          fc.integer({ min: 1, max: 25 }),
          fc.constantFrom<'asc' | 'desc'>('asc', 'desc'),
          fc.constantFrom<'none' | 'map' | 'predicate'>('none', 'map', 'predicate'),
          fc.integer({ min: 0, max: 20 }),
          (events, limit, order, filterKind, fromDt) => {
            const db = openMonitorDb({ path: tmp.dbPath, clock });
            try {
              db.connection().db.exec('DELETE FROM file_events');
              const w = db.writer({ batchWriteDelayMs: 5000 });
              events.forEach((e, i) => w.add({ kind: 'file', time: t0 + e.dt, operation: e.op, path: `/p/${i}` }));
              w.flush();
              const wanted = (r: { time: number; operation: string }) => r.time >= t0 + fromDt && (filterKind === 'none' || r.operation === 'write');
              const expected = events
                .map((e, i) => ({ time: t0 + e.dt, operation: e.op, path: `/p/${i}`, i }))
                .filter(wanted)
                .sort((a, b) => (order === 'asc' ? a.time - b.time || a.i - b.i : b.time - a.time || b.i - a.i))
                .map((e) => e.path);
              const filter =
                filterKind === 'map' ? { operation: 'write' } : filterKind === 'predicate' ? (r: FileEventRow) => r.operation === 'write' : undefined;
              const got: string[] = [];
              let cursor: string | undefined;
              for (let pages = 0; pages <= events.length + 1; pages++) {
                const page = db.queryEvents({ family: 'file', from: t0 + fromDt, to: t0 + 21, limit, order, filter, cursor });
                expect(page.rows.length).toBeLessThanOrEqual(limit);
                got.push(...page.rows.map((r) => r.path));
                cursor = page.nextCursor;
                if (!cursor) break;
                expect(page.rows.length).toBe(limit);
              }
              expect(got).toEqual(expected);
            } finally {
              db.close();
            }
          },
        ),
        { numRuns: 40 },
      );
    } finally {
      tmp.cleanup();
    }
  });
});
