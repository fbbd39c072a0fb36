// Process tracking by pid with ProcessExpirationSeconds, and the exe hash cache keyed by (dev, inode, mtime).
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ExeHashCache } from './exe-hash-cache';
import { ProcessTracker } from './process-tracker';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('ProcessTracker', () => {
  const tracker = () => new ProcessTracker({ processExpirationSeconds: 180, mappingLowerToleranceMs: 200 });

  it('attaches events to the latest exec of a pid, with the lower mapping tolerance', () => {
    const t = tracker();
    t.started({ pid: 10, startTime: 1000, exe: '/bin/a', exeSha256: undefined });
    expect(t.lookup(10, 900)?.exe).toBe('/bin/a'); // 100 ms early: within tolerance
    expect(t.lookup(10, 700)).toBeUndefined(); // before the exec: an earlier image of pid 10
    t.started({ pid: 10, startTime: 5000, exe: '/bin/b', exeSha256: undefined });
    expect(t.lookup(10, 6000)?.exe).toBe('/bin/b');
    expect(t.size).toBe(1);
  });

  it('does not attach events later than the exit plus the upper mapping tolerance', () => {
    const t = new ProcessTracker({ processExpirationSeconds: 180, mappingLowerToleranceMs: 200, mappingUpperToleranceMs: 200 });
    t.started({ pid: 7, startTime: 1000, exe: '/bin/a', exeSha256: undefined });
    t.exited(7, 2000);
    expect(t.lookup(7, 2150)?.exe).toBe('/bin/a');
    expect(t.lookup(7, 2300)).toBeUndefined();
  });

  it('keeps an exited process ProcessExpirationSeconds, then forgets it', () => {
    const t = tracker();
    t.started({ pid: 1, startTime: 0, exe: '/bin/x', exeSha256: undefined });
    t.started({ pid: 2, startTime: 0, exe: '/bin/y', exeSha256: undefined });
    t.lookup(2, 170_000);
    t.exited(1, 10_000);
    expect(t.expire(190_000)).toBe(0); // exactly 180 s after pid 1 exited: still kept
    expect(t.expire(190_001)).toBe(1); // pid 1 gone; pid 2, last seen at 170 s, kept
    expect(t.lookup(1, 190_001)).toBeUndefined();
    expect(t.expire(350_001)).toBe(1);
    expect(t.size).toBe(0);
  });

  it('bounds memory with a hard cap on tracked processes', () => {
    const t = new ProcessTracker({ processExpirationSeconds: 180, mappingLowerToleranceMs: 0, maxProcesses: 100 });
    for (let pid = 0; pid < 1000; pid++) t.started({ pid, startTime: pid, exe: undefined, exeSha256: undefined });
    expect(t.size).toBe(100);
    expect(t.lookup(999, 999)).toBeDefined();
    expect(t.lookup(0, 999)).toBeUndefined();
  });
});

describe('ExeHashCache', () => {
  it('hashes once per (device, inode, mtime) and again when the binary changes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rec-hash-'));
    dirs.push(dir);
    const exe = join(dir, 'tool');
    writeFileSync(exe, 'version 1');
    const c = new ExeHashCache();
    const sha = (s: string) => createHash('sha256').update(s).digest('hex');
    expect(c.sha256(exe)).toBe(sha('version 1'));
    expect(c.sha256(exe)).toBe(sha('version 1'));
    expect([c.hits, c.misses]).toEqual([1, 1]);
    writeFileSync(exe, 'version 2');
    utimesSync(exe, new Date(), new Date(Date.now() + 5000));
    expect(c.sha256(exe)).toBe(sha('version 2'));
    expect(c.misses).toBe(2);
    expect(c.sha256(join(dir, 'missing'))).toBeUndefined();
    expect(c.sha256(dir)).toBeUndefined();
  });
});
