// Bundles each runnable project (apps/*, tools/*) with esbuild: src/main.ts -> dist/main.cjs.
// Workspace libs (@dc/*) are resolved through tsconfig.base.json paths and bundled in; npm
// packages stay external and load from node_modules. Usage: build.mjs --all | PROJECT_DIR...
import { build } from 'esbuild';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const args = process.argv.slice(2);
const dirs = args.includes('--all')
  ? ['apps', 'tools'].flatMap((group) =>
      existsSync(join(root, group))
        ? readdirSync(join(root, group)).map((name) => join(root, group, name))
        : [],
    )
  : args.map((a) => join(root, a));

/** Extra entry points a project declares in its package.json as {"dcBuild": {"entries": {"out": "src/x.ts"}}}. */
function entriesOf(dir) {
  const entries = {};
  if (existsSync(join(dir, 'src', 'main.ts'))) entries.main = join(dir, 'src', 'main.ts');
  const pkgPath = join(dir, 'package.json');
  if (existsSync(pkgPath)) {
    const extra = JSON.parse(readFileSync(pkgPath, 'utf8')).dcBuild?.entries ?? {};
    for (const [out, src] of Object.entries(extra)) entries[out] = join(dir, src);
  }
  return entries;
}

let failed = false;
for (const dir of dirs) {
  const entries = entriesOf(dir);
  if (Object.keys(entries).length === 0) continue;
  const outdir = join(dir, 'dist');
  const started = Date.now();
  try {
    const result = await build({
      write: false,
      entryPoints: entries,
      outdir,
      outExtension: { '.js': '.cjs' },
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      packages: 'external',
      tsconfig: join(root, 'tsconfig.base.json'),
      sourcemap: true,
      logLevel: 'warning',
      banner: { js: '#!/usr/bin/env node' },
    });
    // Each file is written aside and renamed into place, so a process starting the app while
    // another build runs (tests build what they spawn) never reads a missing or partial file.
    for (const file of result.outputFiles) {
      mkdirSync(dirname(file.path), { recursive: true });
      const tmp = `${file.path}.tmp-${process.pid}`;
      writeFileSync(tmp, file.contents, { mode: file.path.endsWith('main.cjs') ? 0o755 : 0o644 });
      renameSync(tmp, file.path);
    }
    console.log(`built ${relative(root, dir)} (${Object.keys(entries).join(', ')}) in ${Date.now() - started} ms`);
  } catch (err) {
    failed = true;
    console.error(`build of ${relative(root, dir)} failed: ${err.message}`);
  }
}
process.exit(failed ? 1 : 0);
