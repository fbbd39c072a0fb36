// Keeps package-lock.json valid for `npm ci` when the registry this machine reaches does not
// serve some platform-only optional packages (here: @bufbuild/buf's darwin/win32/armv7 binaries).
// npm then leaves them out of the lock, and `npm ci` refuses the lock as "out of sync". Each
// missing entry is added as an optional, platform-restricted package, which npm skips on
// every other platform without fetching it. Run after any `npm install`: node tools/scripts/lock-platform-entries.mjs
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const lockPath = join(root, 'package-lock.json');
const lock = JSON.parse(readFileSync(lockPath, 'utf8'));

/** npm platform names from a package suffix like "darwin-arm64", "linux-armv7", "win32-x64". */
const PLATFORM = /-(darwin|linux|win32)-(arm64|x64|aarch64|armv7|ia32)$/;
const CPU = { arm64: 'arm64', aarch64: 'arm64', x64: 'x64', armv7: 'arm', ia32: 'ia32' };

let added = 0;
for (const [path, entry] of Object.entries(lock.packages)) {
  for (const [name, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const key = `node_modules/${name}`;
    const m = PLATFORM.exec(name);
    if (lock.packages[key] || !m) continue;
    lock.packages[key] = {
      version,
      cpu: [CPU[m[2]]],
      ...(entry.dev ? { dev: true } : {}),
      optional: true,
      os: [m[1]],
    };
    added++;
    console.log(`lock: added ${key}@${version} (${m[1]}/${CPU[m[2]]}, optional; needed by ${path || 'root'})`);
  }
}
if (added > 0) {
  lock.packages = Object.fromEntries(Object.entries(lock.packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a.localeCompare(b))));
  const tmp = `${lockPath}.tmp-${process.pid}`;
  writeFileSync(tmp, `${JSON.stringify(lock, null, 2)}\n`);
  renameSync(tmp, lockPath);
}
console.log(`lock: ${added} platform entr${added === 1 ? 'y' : 'ies'} added`);
