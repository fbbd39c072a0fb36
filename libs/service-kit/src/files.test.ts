import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { writeFileAtomic } from './files';
import { makeTempDir } from './testing';

describe('writeFileAtomic', () => {
  const temps: Array<{ remove(): void }> = [];
  afterEach(() => temps.splice(0).forEach((t) => t.remove()));
  const tmp = () => {
    const t = makeTempDir();
    temps.push(t);
    return t.dir;
  };

  it('creates the file with mode 0600 by default, and its directories with 0700', () => {
    const file = join(tmp(), 'a', 'b', 'admin.token');
    writeFileAtomic(file, 'secret\n');
    expect(readFileSync(file, 'utf8')).toBe('secret\n');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(file, '..')).mode & 0o777).toBe(0o700);
  });

  it('replaces a file whole, with the mode asked for, leaving no temp file', () => {
    const dir = tmp();
    const file = join(dir, 'trust-bundle.pem');
    writeFileSync(file, 'old', { mode: 0o600 });
    writeFileAtomic(file, Buffer.from('new bytes'), { mode: 0o644 });
    expect(readFileSync(file, 'utf8')).toBe('new bytes');
    expect(statSync(file).mode & 0o777).toBe(0o644);
    expect(readdirSync(dir)).toEqual(['trust-bundle.pem']);
  });

  it('leaves the old file and no temp file when the rename fails', () => {
    const dir = tmp();
    const target = join(dir, 'is-a-dir');
    writeFileAtomic(join(target, 'inner'), 'x');
    expect(() => writeFileAtomic(target, 'y')).toThrow();
    expect(readdirSync(dir)).toEqual(['is-a-dir']);
  });
});
