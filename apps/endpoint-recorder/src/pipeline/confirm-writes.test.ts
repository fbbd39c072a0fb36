// ConfirmFileWrites on real files: mtime set with utimes, the file removed, the path memory bounded.
import { unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir } from '@dc/service-kit/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { statMtime, WriteConfirmer } from './confirm-writes';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});
const tempDir = () => {
  const t = makeTempDir('rec-confirm-');
  cleanups.push(t.remove);
  return t.dir;
};

describe('WriteConfirmer with the real stat', () => {
  it('confirms a write when the mtime moved, drops it when not, and keeps it when the file is gone', () => {
    const file = join(tempDir(), 'log.txt');
    writeFileSync(file, 'a');
    utimesSync(file, 1000, 1000);
    const c = new WriteConfirmer(statMtime);
    expect(c.check(file)).toEqual({ verdict: 'changed', mtime: 1_000_000 }); // first sighting
    expect(c.check(file)).toEqual({ verdict: 'unchanged' });
    utimesSync(file, 2000, 2000);
    expect(c.check(file)).toEqual({ verdict: 'changed', mtime: 2_000_000 });
    unlinkSync(file);
    expect(c.check(file)).toEqual({ verdict: 'missing' });
    writeFileSync(file, 'b');
    utimesSync(file, 2000, 2000);
    expect(c.check(file).verdict).toBe('changed'); // gone in between: a first sighting again
    expect(c.stats()).toEqual({ unconfirmed: 1, missing: 1, rememberedPaths: 1 });
  });

  it('remembers at most maxPaths paths, forgetting the least recently checked', () => {
    const dir = tempDir();
    const [a, b, c] = ['a', 'b', 'c'].map((n) => join(dir, n));
    for (const f of [a, b, c]) {
      writeFileSync(f, '');
      utimesSync(f, 10, 10);
    }
    const confirm = new WriteConfirmer(statMtime, 2);
    confirm.check(a);
    confirm.check(b);
    expect(confirm.check(a).verdict).toBe('unchanged'); // a is now the most recent
    confirm.check(c); // evicts b
    expect(confirm.stats().rememberedPaths).toBe(2);
    expect(confirm.check(a).verdict).toBe('unchanged');
    expect(confirm.check(b).verdict).toBe('changed'); // forgotten: counts as a first sighting
  });
});
