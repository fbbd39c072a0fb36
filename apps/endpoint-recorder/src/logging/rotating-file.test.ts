// recorder.log rotates at logMaxSize and keeps logRotations files.
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createRecorderLog } from './recorder-log';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('recorder.log', () => {
  it('rotates at logMaxSize, keeps logRotations files and honours a live level change', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rec-log-'));
    dirs.push(dir);
    const path = join(dir, 'recorder.log');
    const r = createRecorderLog({ path, maxSize: 4096, rotations: 2, level: 'info' });
    for (let i = 0; i < 200; i++) r.log.info({ i, pad: 'x'.repeat(40) }, 'line');
    r.log.info({ password: 'hunter2' }, 'secret test');
    r.setLevel('warn');
    r.log.info('not written');
    r.log.warn('written');
    r.close();
    expect(statSync(path).size).toBeLessThanOrEqual(4096);
    expect(statSync(`${path}.1`).size).toBeLessThanOrEqual(4096);
    expect(existsSync(`${path}.2`)).toBe(true);
    expect(existsSync(`${path}.3`)).toBe(false);
    const last = readFileSync(path, 'utf8');
    expect(last).toContain('"msg":"written"');
    expect(last).not.toContain('not written');
    expect(last).not.toContain('hunter2');
    expect(JSON.parse(last.trim().split('\n')[0])).toMatchObject({ level: expect.any(String), msg: expect.any(String) });
  });
});
