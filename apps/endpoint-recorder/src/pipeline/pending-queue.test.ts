// PendingEventCap: a burst beyond the cap is dropped and counted, and memory stays bounded.
import { describe, expect, it } from 'vitest';
import { PendingQueue } from './pending-queue';

describe('PendingQueue', () => {
  it('drops and counts every event beyond PendingEventCap, per family', () => {
    const q = new PendingQueue<number>(3);
    const accepted = [1, 2, 3, 4, 5].map((n) => q.push(n, n % 2 ? 'file' : 'network'));
    expect(accepted).toEqual([true, true, true, false, false]);
    expect(q.dropped).toBe(2);
    expect(Object.fromEntries(q.droppedByFamily)).toEqual({ network: 1, file: 1 });
    expect(q.take(2)).toEqual([1, 2]);
    expect(q.push(6, 'file')).toBe(true); // below the cap again
    expect(q.take()).toEqual([3, 6]);
    expect(q.size).toBe(0);
  });

  it('keeps a batch the writer could not store ahead of newer events', () => {
    const q = new PendingQueue<string>(10);
    q.push('a', 'f');
    q.push('b', 'f');
    const batch = q.take();
    q.push('c', 'f');
    q.requeue(batch);
    expect(q.take()).toEqual(['a', 'b', 'c']);
  });

  it('treats a cap of 0 as unbounded', () => {
    const q = new PendingQueue<number>(0);
    for (let i = 0; i < 10_000; i++) q.push(i, 'process');
    expect([q.size, q.dropped]).toEqual([10_000, 0]);
  });

  it('keeps memory bounded under a burst of a million events while the writer is stalled', () => {
    const cap = 5000;
    const q = new PendingQueue<{ path: string; n: number }>(cap);
    globalThis.gc?.();
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < 1_000_000; i++) q.push({ path: `/tmp/file-${i}`, n: i }, 'file');
    const grown = process.memoryUsage().heapUsed - before;
    expect(q.size).toBe(cap);
    expect(q.highWater).toBe(cap);
    expect(q.dropped).toBe(1_000_000 - cap);
    // A million retained events would need ~100 MB; 5000 need well under 20 MB even with garbage.
    expect(grown).toBeLessThan(40 * 1024 * 1024);
    expect(q.take(1)[0].n).toBe(0);
  });
});
