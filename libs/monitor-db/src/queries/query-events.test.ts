import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidMonitorInput } from '../errors';
import { openMonitorDb, type MonitorDb } from '../monitor-db';
import { fileRecord, ManualClock, startRecord, tempDir } from '../test-support';
import type { FileEventRow } from './rows';

describe('queries', () => {
  let tmp: ReturnType<typeof tempDir>;
  let db: MonitorDb;
  const clock = new ManualClock();
  const t0 = clock.now();

  beforeEach(() => {
    tmp = tempDir();
    db = openMonitorDb({ path: tmp.dbPath, clock });
    const w = db.writer({ batchWriteDelayMs: 1000 });
    w.add(startRecord(10, t0, { exe: '/usr/bin/editor', user: 'alice' }));
    w.add(startRecord(20, t0, { exe: '/usr/bin/backup', user: 'root', uid: 0 }));
    // 100 file events: even ones by the editor, odd ones by backup; two share each millisecond.
    for (let i = 0; i < 100; i++) {
      w.add(fileRecord(i % 2 ? 20 : 10, t0 + 1000 + Math.floor(i / 2), `/data/f${i}`, {
        operation: i % 5 === 0 ? 'delete' : 'write', success: i % 3 !== 0, details: { seq: i },
      }));
    }
    for (let s = 0; s < 5; s++) w.add({ kind: 'sample', time: t0 + s * 100, process: { pid: 10 }, cpuPercent: s, rssBytes: 1000 * s });
    w.add({ kind: 'process-exit', time: t0 + 5000, pid: 20, exitCode: 0 });
    w.close();
  });
  afterEach(() => {
    db.close();
    tmp.cleanup();
  });

  it('returns typed rows of one family in a time range, joined with their process', () => {
    const page = db.queryEvents({ family: 'file', from: t0 + 1000, to: t0 + 1001, limit: 10 });
    expect(page.nextCursor).toBeUndefined();
    expect(page.rows).toEqual([
      expect.objectContaining({
        family: 'file', time: t0 + 1000, pid: 10, exe: '/usr/bin/editor', user: 'alice', operation: 'delete',
        path: '/data/f0', oldPath: null, success: false, details: { seq: 0 },
      }),
      expect.objectContaining({ pid: 20, exe: '/usr/bin/backup', user: 'root', uid: 0, path: '/data/f1', success: true }),
    ]);
  });

  it('pages through every row exactly once with the cursor, in either order', () => {
    for (const order of ['asc', 'desc'] as const) {
      const seen: number[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = db.queryEvents({ family: 'file', from: t0, to: t0 + 10_000, limit: 7, cursor, order });
        seen.push(...page.rows.map((r) => r.details?.seq as number));
        cursor = page.nextCursor;
        pages++;
      } while (cursor);
      expect(pages).toBe(15);
      const expected = Array.from({ length: 100 }, (_, i) => i);
      expect(seen).toEqual(order === 'asc' ? expected : expected.reverse());
    }
  });

  it('filters by a field map in SQL and by a predicate, with the same limit and paging', () => {
    const backupDeletes = Array.from({ length: 10 }, (_, k) => `/data/f${10 * k + 5}`);
    const byMap = db.queryEvents({ family: 'file', from: t0, to: t0 + 10_000, limit: 100, filter: { operation: 'delete', exe: '/usr/bin/backup' } });
    expect(byMap.rows.map((r) => r.path)).toEqual(backupDeletes);

    const predicate = (r: FileEventRow) => r.operation === 'delete' && r.exe === '/usr/bin/backup';
    const paths: string[][] = [];
    let cursor: string | undefined;
    do {
      const page = db.queryEvents({ family: 'file', from: t0, to: t0 + 10_000, limit: 4, filter: predicate, cursor });
      paths.push(page.rows.map((r) => r.path));
      cursor = page.nextCursor;
    } while (cursor);
    expect(paths).toEqual([backupDeletes.slice(0, 4), backupDeletes.slice(4, 8), backupDeletes.slice(8)]);

    const many = db.queryEvents({ family: 'file', from: t0, to: t0 + 10_000, limit: 100, filter: { pid: [10, 20], success: true } });
    expect(many.rows).toHaveLength(66);
  });

  it.each<[string, object, string]>([
    ['an unknown family', { family: 'mail' }, 'family "mail": must be one of process'],
    ['a limit of 0', { limit: 0 }, 'limit 0: must be an integer from 1 to 10000'],
    ['a range that ends before it starts', { from: 10, to: 5 }, 'to 5: must not be before from (10)'],
    ['a forged cursor', { cursor: 'abc' }, 'cursor "abc": must be a nextCursor'],
    ['an unknown filter field', { filter: { colour: 'red' } }, 'filter.colour "red": is not a filterable field of file events'],
  ])('refuses %s', (_name, override, message) => {
    const query = { family: 'file' as const, from: t0, to: t0 + 10_000, limit: 5, ...override };
    expect(() => db.queryEvents(query)).toThrow(InvalidMonitorInput);
    expect(() => db.queryEvents(query)).toThrow(message);
  });

  it('reads process history with its resource samples and event counts', () => {
    const [entry, ...rest] = db.processHistory({ pid: 10, from: t0, to: t0 + 250 });
    expect(rest).toEqual([]);
    expect(entry.process).toMatchObject({ pid: 10, exe: '/usr/bin/editor', argv: ['prog10', '--flag'], inferred: false, endTime: null });
    expect(entry.samples.map((s) => s.cpuPercent)).toEqual([0, 1, 2]);
    expect(entry.eventCounts).toMatchObject({ process: 1, file: 0 });

    const byExe = db.processHistory({ exe: '/usr/bin/backup', from: t0, to: t0 + 10_000 });
    expect(byExe).toHaveLength(1);
    expect(byExe[0].process).toMatchObject({ pid: 20, endTime: t0 + 5000, exitCode: 0 });
    expect(byExe[0].eventCounts).toMatchObject({ process: 2, file: 50 });

    expect(db.processHistory({ pid: 20, from: t0 + 6000, to: t0 + 7000 })).toEqual([]);
    expect(() => db.processHistory({ from: t0, to: t0 + 1 })).toThrow('pid or exe is required');
  });

  it('reads the history of one path, including renames to and from it', () => {
    const w = db.writer({ batchWriteDelayMs: 0 });
    w.add(fileRecord(10, t0 + 2000, '/data/f3.bak', { operation: 'rename', oldPath: '/data/f3' }));
    w.add(fileRecord(10, t0 + 2001, '/data/f3', { operation: 'create' }));
    const history = db.fileHistory({ path: '/data/f3', from: t0, to: t0 + 10_000, limit: 10 });
    expect(history.map((r) => [r.operation, r.path, r.oldPath, r.exe])).toEqual([
      ['write', '/data/f3', null, '/usr/bin/backup'],
      ['rename', '/data/f3.bak', '/data/f3', '/usr/bin/editor'],
      ['create', '/data/f3', null, '/usr/bin/editor'],
    ]);
    expect(db.fileHistory({ path: '/data/f3', from: t0, to: t0 + 10_000, limit: 2 })).toHaveLength(2);
    expect(() => db.fileHistory({ path: '', from: t0, to: t0, limit: 1 })).toThrow('path "": must be a non-empty string');
  });

  it('counts rows per family', () => {
    expect(db.countsByFamily()).toEqual({ process: 3, file: 100, network: 0, security: 0, dns: 0, registry: 0, image: 0 });
  });
});
