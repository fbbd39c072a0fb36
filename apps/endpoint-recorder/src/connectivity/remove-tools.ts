// Remove Tools (SPEC 1.7.4 uninstall, gateway RemoveToolsAction) on the endpoint: delete the
// Direct Connect content this agent owns — identity and key files, the package's
// configuration.json, the key store, the pid file — and, when asked, the recorder's data
// (monitor.db with its -wal/-shm, the recorder's configuration directory). Every path is removed
// only when it lies inside the directory configured for it, and a symbolic link is removed
// itself, never followed: nothing outside the agent's own directories is ever touched.
import { lstatSync, readdirSync, realpathSync, rmdirSync, unlinkSync } from 'node:fs';
import { basename, dirname, join, sep } from 'node:path';

/** One thing to remove and the directory it must lie in. */
export interface RemovalItem {
  readonly root: string;
  /** May be root itself (the whole directory goes). */
  readonly path: string;
}

/** A path that could not be removed; the message names it. */
export class RemovalError extends Error {
  constructor(
    readonly path: string,
    why: string,
  ) {
    super(`cannot remove ${path}: ${why}`);
  }
}

export interface ToolsLayout {
  /** The tools (configuration) directory `recorder connect --config` uses. */
  readonly toolsDir: string;
  /** The package's configuration.json (default <toolsDir>/configuration.json). */
  readonly configurationFile: string;
  /** The endpoint identity (key, certificate, client id). */
  readonly identityDir: string;
  /** The Protect key store. */
  readonly keysDir: string;
  /** `recorder connect`'s pid file. */
  readonly pidFile: string;
  /** The recorder's database (SPEC 2.3 monitor.db), wherever its configuration puts it. */
  readonly monitorDb: string;
}

/** What Remove Tools deletes, in order: identity last, so a failure part-way leaves a working agent. */
export function toolsRemovalPlan(layout: ToolsLayout, removeRecorderData: boolean): RemovalItem[] {
  const items: RemovalItem[] = [
    { root: layout.toolsDir, path: layout.pidFile },
    { root: dirname(layout.configurationFile), path: layout.configurationFile },
    { root: layout.toolsDir, path: layout.keysDir },
  ];
  if (removeRecorderData) {
    const dbDir = dirname(layout.monitorDb);
    for (const suffix of ['', '-wal', '-shm']) items.push({ root: dbDir, path: `${layout.monitorDb}${suffix}` });
  }
  items.push({ root: layout.toolsDir, path: layout.identityDir });
  // The recorder's configuration directory is the tools directory: all of it goes.
  if (removeRecorderData) items.push({ root: layout.toolsDir, path: layout.toolsDir });
  return items;
}

/** Removes each item; returns the paths removed. Throws RemovalError naming the first that could not be. */
export function removeItems(items: readonly RemovalItem[]): string[] {
  const removed: string[] = [];
  for (const item of items) {
    const target = inside(item.root, item.path);
    if (target !== undefined) removeOne(target, removed);
  }
  return removed;
}

/**
 * The path to remove with its directories resolved, if it exists; undefined when it (or its
 * directory) does not. A path whose directory resolves outside root is refused.
 */
function inside(root: string, path: string): string | undefined {
  let realRoot: string;
  let realDir: string;
  try {
    realRoot = realpathSync(root);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new RemovalError(root, (err as Error).message);
  }
  if (path === root) return realRoot;
  try {
    realDir = realpathSync(dirname(path));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new RemovalError(path, (err as Error).message);
  }
  if (realDir !== realRoot && !realDir.startsWith(realRoot.endsWith(sep) ? realRoot : realRoot + sep)) {
    throw new RemovalError(path, `it lies outside ${root} (its directory resolves to ${realDir}); nothing outside the agent's own directories is removed`);
  }
  const target = join(realDir, basename(path));
  try {
    lstatSync(target);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new RemovalError(target, (err as Error).message);
  }
  return target;
}

/** Removes a file, a symbolic link (not what it points to) or a directory tree. */
function removeOne(path: string, removed: string[]): void {
  let st;
  try {
    st = lstatSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new RemovalError(path, (err as Error).message);
  }
  try {
    if (st.isDirectory()) {
      removeContents(path, removed);
      rmdirSync(path);
    } else unlinkSync(path);
  } catch (err) {
    if (err instanceof RemovalError) throw err;
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new RemovalError(path, (err as Error).message);
  }
  removed.push(path);
}

function removeContents(dir: string, removed: string[]): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return;
    throw new RemovalError(dir, (err as Error).message);
  }
  for (const name of names) removeOne(join(dir, name), removed);
}
