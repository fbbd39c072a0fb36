// Moving monitor.db aside: archives (MaxCleanTries, DatabaseArchiveLimit) and corrupt copies
// (Recreate Database). The database must be closed; its -wal/-shm travel with it.
import { existsSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** A sortable, file-name-safe stamp: 2026-11-23T12-54-11-000Z. */
export function fileStamp(now: number): string {
  return new Date(now).toISOString().replace(/[:.]/g, '-');
}

/** Renames the db (and any -wal) to `<path>.<kind>-<stamp>`, returning the new path. */
export function moveAside(path: string, kind: 'archive' | 'corrupt', now: number): string {
  let target = `${path}.${kind}-${fileStamp(now)}`;
  for (let n = 1; existsSync(target); n++) target = `${path}.${kind}-${fileStamp(now)}-${n}`;
  renameSync(path, target);
  if (existsSync(`${path}-wal`)) renameSync(`${path}-wal`, `${target}-wal`);
  rmSync(`${path}-shm`, { force: true });
  return target;
}

/** Moved-aside copies of `path` of one kind, oldest first. */
export function listMovedAside(path: string, kind: 'archive' | 'corrupt'): string[] {
  const prefix = `${basename(path)}.${kind}-`;
  const dir = dirname(path);
  return readdirSync(dir)
    .filter((f) => f.startsWith(prefix) && !f.endsWith('-wal') && !f.endsWith('-shm'))
    .sort()
    .map((f) => join(dir, f));
}

/** Deletes the oldest copies beyond `keep`; returns what it deleted. */
export function pruneMovedAside(path: string, kind: 'archive' | 'corrupt', keep: number): string[] {
  const all = listMovedAside(path, kind);
  const doomed = all.slice(0, Math.max(0, all.length - keep));
  for (const f of doomed) {
    rmSync(f, { force: true });
    rmSync(`${f}-wal`, { force: true });
  }
  return doomed;
}
