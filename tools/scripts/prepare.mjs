// Runs after `npm ci` / `npm install`: generates the gRPC contracts and builds every project,
// so that a fresh clone can run `npm start`, `npm test` and `npx dc-audit` straight away.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const steps = [
  // After `npm install` re-writes the lock: keep it valid for `npm ci` (see the script's header).
  ['node', ['tools/scripts/lock-platform-entries.mjs']],
  ['node', ['tools/proto-gen/generate.mjs']],
  ['node', ['tools/build/build.mjs', '--all']],
];
for (const [cmd, args] of steps) {
  if (!existsSync(join(root, args[0]))) continue;
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`prepare: "${cmd} ${args.join(' ')}" failed with exit code ${r.status}`);
    process.exit(r.status ?? 1);
  }
}
