// SPEC 2.5 onlyWatchFileRoot on Linux: which part of the file system the recorder's file rules
// watch. true (default): the root folder, i.e. everything. false: only the Integrity Monitor
// watchlist (SPEC 2.3 watchlist.json) is in file-watch mode.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseWatchlist } from '@dc/filters';
import type { RecorderConfig } from '../config/load-config';
import type { FileWatchScope } from './recorder-rules';

export interface PlannedFileWatch {
  readonly scope: FileWatchScope;
  /** One line per decision, for the install plan (`install-audit --dry-run` prints them). */
  readonly notes: readonly string[];
}

/**
 * The file-rule scope for `config`, with watchlist paths checked under `root` ("/" on an
 * endpoint): a directory (or a path ending in `/`) becomes a recursive `dir=` watch, a file a
 * `path=` watch. Paths auditctl cannot take (whitespace, not absolute) or that do not exist
 * (the kernel refuses a watch whose directory is missing) are left out, and the notes say so.
 * Throws FilterValidationError for an invalid watchlist.json.
 */
export function planFileWatch(config: Pick<RecorderConfig, 'onlyWatchFileRoot' | 'paths'>, root: string): PlannedFileWatch {
  if (config.onlyWatchFileRoot) {
    return { scope: { kind: 'root' }, notes: ['file events: the whole file system from / (onlyWatchFileRoot true)'] };
  }
  const file = config.paths.watchlist;
  const listed = existsSync(file) ? parseWatchlist(readFileSync(file, 'utf8'), file).paths : [];
  const notes: string[] = [];
  const paths: Array<{ path: string; dir: boolean }> = [];
  for (const raw of listed) {
    if (!raw.startsWith('/') || /\s/.test(raw)) {
      notes.push(`file events: watchlist path ${JSON.stringify(raw)} left out (an audit rule takes an absolute path without spaces)`);
      continue;
    }
    const path = raw.length > 1 ? raw.replace(/\/+$/, '') : raw;
    if (path === '/') return { scope: { kind: 'root' }, notes: ['file events: the whole file system (watchlist.json watches /)'] };
    const stat = statSync(join(root, path), { throwIfNoEntry: false });
    if (!stat) {
      notes.push(`file events: watchlist path ${path} does not exist: not watched (run install-audit again once it exists)`);
      continue;
    }
    paths.push({ path, dir: stat.isDirectory() || raw.endsWith('/') });
  }
  notes.push(
    paths.length
      ? `file events: only the watchlist (onlyWatchFileRoot false): ${paths.map((p) => (p.dir ? `${p.path}/ and below` : p.path)).join(', ')}`
      : `file events: none — onlyWatchFileRoot is false and ${existsSync(file) ? `${file} lists no watchable path` : `there is no ${file}`}`,
  );
  return { scope: { kind: 'paths', paths }, notes };
}
