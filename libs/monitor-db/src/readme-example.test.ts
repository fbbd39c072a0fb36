import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { tempDir } from './test-support';

const projectDir = resolve(__dirname, '..');
const workspaceRoot = resolve(projectDir, '..', '..');
const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

describe('README', () => {
  it('has an example that runs as written and prints what it promises', () => {
    const readme = readFileSync(join(projectDir, 'README.md'), 'utf8');
    const example = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(example).toBeDefined();
    const tmp = tempDir();
    try {
      const file = join(tmp.dir, 'example.ts');
      writeFileSync(file, example as string);
      // Run from the workspace root so tsx resolves @dc/monitor-db through tsconfig paths.
      const out = execFileSync(process.execPath, ['--import', tsxLoader, file], { cwd: workspaceRoot, encoding: 'utf8' });
      expect(out.trim()).toBe('/usr/bin/curl 93.184.216.34');
    } finally {
      tmp.cleanup();
    }
  });
});
