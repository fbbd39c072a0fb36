// Follows a real temp file through appends, rotation by rename and truncation.
import { appendFileSync, mkdtempSync, renameSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '@dc/service-kit/testing';
import { followFile } from './follow-file';
import { LineSplitter } from './line-splitter';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function follow(path: string, fromStart = false, pollMs = 5) {
  const ac = new AbortController();
  const seen: string[] = [];
  const reopened: string[] = [];
  const opened: number[] = [];
  const done = (async () => {
    for await (const batch of followFile(path, { pollMs, fromStart, signal: ac.signal, onReopen: (r) => reopened.push(r), onOpen: (p) => opened.push(p) })) {
      seen.push(...batch);
    }
  })();
  return { seen, reopened, opened, stop: async () => (ac.abort(), await done) };
}

describe('followFile', () => {
  it('starts at the end, then yields appended lines, across rotation and truncation', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rec-follow-'));
    dirs.push(dir);
    const log = join(dir, 'audit.log');
    writeFileSync(log, 'old line before start\n');
    const f = follow(log);
    await waitFor(() => f.opened.length === 1, { what: 'the follower to open the file' });
    appendFileSync(log, 'a1\na2\npart');
    await waitFor(() => f.seen.includes('a2'), { what: 'a2' });
    appendFileSync(log, 'ial\n');
    await waitFor(() => f.seen.includes('partial'), { what: 'the partial line completed' });

    appendFileSync(log, 'last before rotation\n');
    renameSync(log, `${log}.1`);
    appendFileSync(`${log}.1`, 'late write to the rotated file\n');
    writeFileSync(log, 'b1 in the new file\n');
    await waitFor(() => f.seen.includes('b1 in the new file'), { what: 'b1' });

    truncateSync(log, 0);
    await waitFor(() => f.reopened.includes('truncated'), { what: 'truncation noticed' });
    appendFileSync(log, 'c1 after truncation\n');
    await waitFor(() => f.seen.includes('c1 after truncation'), { what: 'c1' });
    await f.stop();

    expect(f.seen).toEqual([
      'a1',
      'a2',
      'partial',
      'last before rotation',
      'late write to the rotated file',
      'b1 in the new file',
      'c1 after truncation',
    ]);
    expect(f.reopened).toEqual(['rotated', 'truncated']);
  });

  it('loses no line written to the old file just before or after a rotation, over many rotations', async () => {
    // The writer appends, the file is renamed, the writer appends once more to the old file, and a
    // new file appears — while the follower polls every millisecond, so some rotations land between
    // its read of the old file and its look at the path.
    const dir = mkdtempSync(join(tmpdir(), 'rec-follow-'));
    dirs.push(dir);
    const log = join(dir, 'audit.log');
    writeFileSync(log, '');
    const f = follow(log, true, 1);
    await waitFor(() => f.opened.length === 1, { what: 'the follower to open the file' });
    const expected: string[] = [];
    for (let i = 0; i < 150; i++) {
      appendFileSync(log, `before ${i}\n`);
      renameSync(log, `${log}.${i}`);
      appendFileSync(`${log}.${i}`, `late ${i}\n`);
      writeFileSync(log, `new ${i}\n`);
      expected.push(`before ${i}`, `late ${i}`, `new ${i}`);
      await waitFor(() => f.seen.includes(`new ${i}`), { what: `new ${i}` });
    }
    await f.stop();
    expect(f.seen).toEqual(expected);
  });

  it('waits for a file that does not exist yet and reads it from the start', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rec-follow-'));
    dirs.push(dir);
    const log = join(dir, 'audit.log');
    const f = follow(log, true);
    writeFileSync(log, 'x1\nx2\n');
    await waitFor(() => f.seen.length === 2, { what: 'two lines' });
    await f.stop();
    expect(f.seen).toEqual(['x1', 'x2']);
  });
});

describe('LineSplitter', () => {
  it('joins lines split across chunks, even inside a multi-byte character', () => {
    const s = new LineSplitter();
    const bytes = Buffer.from('é1\r\nz');
    expect(s.push(bytes.subarray(0, 1))).toEqual([]);
    expect(s.push(bytes.subarray(1))).toEqual(['é1']);
    expect(s.end()).toEqual(['z']);
  });
});
