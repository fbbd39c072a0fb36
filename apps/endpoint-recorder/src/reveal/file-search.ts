// Reveal's file search (SPEC 1.1.3): walks the rules' roots on this endpoint and streams the
// files matching their path and content patterns, bounded in results, depth and bytes read.
import { createHash } from 'node:crypto';
import { constants, readFileSync, type Dirent, type Stats } from 'node:fs';
import { type FileHandle, lstat, open, opendir, realpath, stat } from 'node:fs/promises';
import { isAbsolute, join, normalize, sep } from 'node:path';
import { createInterface } from 'node:readline';
import { sessionV1 as session } from '@dc/proto';
import { SessionRequestError } from '../connectivity/session-requests';
import { compilePattern, type CompiledPattern, PatternError } from './patterns';

export const DEFAULT_MAX_RESULTS = 1000; // session.proto FileSearch.max_results
export const MAX_RESULTS = 10_000;
export const DEFAULT_MAX_DEPTH = 32; // session.proto FileSearch.max_depth
export const DEFAULT_MAX_CONTENT_BYTES = 10 * 1024 * 1024; // session.proto FileSearch.max_content_bytes
/** Bytes read from one file at most, whatever the request asks: content matching is a scan, not a copy. */
export const MAX_CONTENT_BYTES = 64 * 1024 * 1024;
const MAX_UNREADABLE = 100; // session.proto FileSearchChunk.unreadable_paths
const EXCERPT = 256; // session.proto FileMatch.excerpt

/** Kernel pseudo-filesystems: their "files" are live state or devices, not content to reveal. */
export const REFUSED_ROOTS = ['/proc', '/sys', '/dev'];

export interface FileSearchOptions {
  /** Matches per chunk sent to the broker. */
  readonly chunkSize?: number;
  /** Uid → user name; defaults to /etc/passwd. */
  readonly userName?: (uid: number) => string;
  /** Files scanned between progress chunks (sent even without matches, so the broker sees progress and can cancel). */
  readonly progressEvery?: number;
  /** How long the search may run, ms: the contract's default request timeout (SessionRequest.timeout, 60 s). */
  readonly timeBudgetMs?: number;
  readonly clock?: () => number;
}

interface Rule {
  readonly name: string;
  readonly roots: readonly string[];
  readonly paths: readonly CompiledPattern[];
  readonly exclusions: readonly CompiledPattern[];
  readonly contents: readonly CompiledPattern[];
}

const invalid = (field: string, message: string) => new SessionRequestError(session.SessionErrorCode.SESSION_ERROR_CODE_INVALID_ARGUMENT, field, message);

function compileAll(patterns: readonly session.Pattern[], field: string): CompiledPattern[] {
  return patterns.map((p, i) => {
    try {
      return compilePattern(p);
    } catch (err) {
      if (err instanceof PatternError) throw invalid(`${field}[${i}]`, err.message);
      throw err;
    }
  });
}

/** Checks a root: absolute, normalised, an existing directory, not a pseudo-filesystem. Returns its real path. */
async function checkRoot(root: string, field: string): Promise<string> {
  if (!isAbsolute(root)) throw invalid(field, `root "${root}" must be an absolute path`);
  if (root.split('/').includes('..') || normalize(root).replace(/(.)\/$/, '$1') !== root.replace(/(.)\/$/, '$1')) throw invalid(field, `root "${root}" must be a normalised path (no "..", "." or "//")`);
  let real: string;
  try {
    real = await realpath(root);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new SessionRequestError(session.SessionErrorCode.SESSION_ERROR_CODE_NOT_FOUND, field, `root "${root}" does not exist on this endpoint`);
    throw new SessionRequestError(session.SessionErrorCode.SESSION_ERROR_CODE_PERMISSION_DENIED, field, `root "${root}" cannot be resolved (${code})`);
  }
  for (const refused of REFUSED_ROOTS) {
    if (real === refused || real.startsWith(`${refused}/`)) throw new SessionRequestError(session.SessionErrorCode.SESSION_ERROR_CODE_PERMISSION_DENIED, field, `root "${root}" is under ${refused}, a kernel pseudo-filesystem Reveal does not search`);
  }
  if (!(await stat(real)).isDirectory()) throw invalid(field, `root "${root}" must be a directory`);
  return real;
}

/** Validates the whole request before any file is touched; a bad field fails it as a whole. */
async function parseSearch(search: session.FileSearch): Promise<{ rules: Rule[]; maxResults: number; maxDepth: number; maxContentBytes: number }> {
  if (search.rules.length === 0) throw invalid('find_files.rules', 'at least one rule is required');
  const maxResults = search.maxResults === 0 ? DEFAULT_MAX_RESULTS : search.maxResults;
  if (maxResults > MAX_RESULTS) throw invalid('find_files.max_results', `must be at most ${MAX_RESULTS} (got ${maxResults})`);
  const maxDepth = search.maxDepth === 0 ? DEFAULT_MAX_DEPTH : search.maxDepth;
  if (maxDepth > 256) throw invalid('find_files.max_depth', `must be at most 256 (got ${maxDepth})`);
  const maxContentBytes = search.maxContentBytes === 0 ? DEFAULT_MAX_CONTENT_BYTES : search.maxContentBytes;
  if (maxContentBytes > MAX_CONTENT_BYTES) throw invalid('find_files.max_content_bytes', `must be at most ${MAX_CONTENT_BYTES} (got ${maxContentBytes})`);
  const rules: Rule[] = [];
  for (const [i, r] of search.rules.entries()) {
    const field = `find_files.rules[${i}]`;
    if (r.roots.length === 0) throw invalid(`${field}.roots`, 'at least one root directory is required');
    const roots: string[] = [];
    for (const [j, root] of r.roots.entries()) roots.push(await checkRoot(root, `${field}.roots[${j}]`));
    rules.push({
      name: r.name || `rules[${i}]`,
      roots,
      paths: compileAll(r.pathPatterns, `${field}.path_patterns`),
      exclusions: compileAll(r.exclusions, `${field}.exclusions`),
      contents: compileAll(r.contentPatterns, `${field}.content_patterns`),
    });
  }
  return { rules, maxResults, maxDepth, maxContentBytes };
}

function passwdNames(): (uid: number) => string {
  const names = new Map<number, string>();
  try {
    for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const [name, , uid] = line.split(':');
      if (name && uid && !names.has(Number(uid))) names.set(Number(uid), name);
    }
  } catch {
    // no passwd file (containers, Windows): owners are reported as uids
  }
  return (uid) => names.get(uid) ?? String(uid);
}

/** The root of `path` in `roots` and the path relative to it, or undefined when outside them all. */
function within(roots: readonly string[], path: string): { root: string; rel: string } | undefined {
  for (const root of roots) {
    if (path === root) return { root, rel: '' };
    const prefix = root.endsWith(sep) ? root : root + sep;
    if (path.startsWith(prefix)) return { root, rel: path.slice(prefix.length) };
  }
  return undefined;
}

/** Opens a file for reading without following a final symlink, and without blocking on a FIFO swapped in meanwhile. */
async function openNoFollow(path: string): Promise<FileHandle> {
  const fh = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  if (!(await fh.stat()).isFile()) {
    await fh.close();
    throw new Error(`${path} is no longer a regular file`);
  }
  return fh;
}

/** Reads a file line by line, at most `maxBytes`, without following a symlink; the first line any pattern matches. */
async function firstMatchingLine(path: string, patterns: readonly CompiledPattern[], maxBytes: number): Promise<string | undefined> {
  const fh = await openNoFollow(path);
  const stream = fh.createReadStream({ end: maxBytes - 1, encoding: 'utf8' });
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  try {
    for await (const line of lines) {
      if (patterns.some((p) => p.matchLine(line))) return line.slice(0, EXCERPT);
    }
    return undefined;
  } finally {
    lines.close();
    stream.destroy();
    await fh.close().catch(() => undefined);
  }
}

async function sha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  const fh = await openNoFollow(path);
  try {
    for await (const chunk of fh.createReadStream({ autoClose: false })) hash.update(chunk as Buffer);
  } finally {
    await fh.close();
  }
  return hash.digest('hex');
}

/**
 * Streams the files matching a FileSearch, in chunks. Symbolic links are never followed (a
 * link to a file inside the root is reported when the file it names is; directories through
 * links are not entered), sockets, FIFOs and devices are skipped, each root is searched down
 * to max_depth, and a file is content-matched only up to max_content_bytes.
 */
export async function* findFiles(search: session.FileSearch, opts: FileSearchOptions = {}): AsyncGenerator<session.FileSearchChunk> {
  const { rules, maxResults, maxDepth, maxContentBytes } = await parseSearch(search);
  const chunkSize = opts.chunkSize ?? 200;
  const userName = opts.userName ?? passwdNames();
  const progressEvery = opts.progressEvery ?? 10_000;
  const clock = opts.clock ?? Date.now;
  const timeBudgetMs = opts.timeBudgetMs ?? 60_000;
  const started = clock();
  const seen = new Set<string>();
  const unreadable: string[] = [];
  const noteUnreadable = (p: string) => {
    if (unreadable.length < MAX_UNREADABLE) unreadable.push(p);
  };
  let matches: session.FileMatch[] = [];
  let found = 0;
  let scanned = 0;
  let truncated = false;

  const examine = async (path: string, readPath: string, st: Stats, realRoots: (rule: Rule) => { root: string; rel: string } | undefined): Promise<session.FileMatch | undefined> => {
    const hits: string[] = [];
    let excerpt = '';
    for (const rule of rules) {
      const at = realRoots(rule);
      if (!at || at.rel.split(sep).length > maxDepth + 1) continue;
      const rel = at.rel.split(sep).join('/');
      if (rule.exclusions.some((p) => p.matchPath(path, rel))) continue;
      if (rule.paths.length > 0 && !rule.paths.some((p) => p.matchPath(path, rel))) continue;
      if (rule.contents.length > 0) {
        if (st.size > maxContentBytes) continue;
        let line: string | undefined;
        try {
          line = await firstMatchingLine(readPath, rule.contents, maxContentBytes);
        } catch {
          noteUnreadable(path);
          return undefined;
        }
        if (line === undefined) continue;
        excerpt ||= line;
      }
      hits.push(rule.name);
    }
    if (hits.length === 0) return undefined;
    let digest = '';
    if (search.hashFiles) {
      try {
        digest = await sha256(readPath);
      } catch {
        noteUnreadable(path);
      }
    }
    return { path, sizeBytes: st.size, modifiedTime: st.mtime, owner: userName(st.uid), sha256: digest, rules: hits, excerpt };
  };

  const roots = [...new Set(rules.flatMap((r) => r.roots))];
  walk: for (const root of roots) {
    const stack: { dir: string; depth: number }[] = [{ dir: root, depth: 0 }];
    while (stack.length > 0) {
      const { dir, depth } = stack.pop()!;
      let entries: Dirent[];
      try {
        entries = [];
        for await (const e of await opendir(dir)) entries.push(e);
      } catch {
        noteUnreadable(dir);
        continue;
      }
      // Files in name order, then subdirectories in name order (pushed reversed on the stack).
      entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      if (depth + 1 <= maxDepth) {
        // A search from / still never enters the pseudo-filesystems.
        for (const e of entries.filter((x) => x.isDirectory()).reverse()) {
          const sub = join(dir, e.name);
          if (!REFUSED_ROOTS.includes(sub)) stack.push({ dir: sub, depth: depth + 1 });
        }
      }
      for (const e of entries) {
        const path = join(dir, e.name);
        if (e.isDirectory()) continue;
        let st: Stats;
        let target = path;
        if (e.isSymbolicLink()) {
          // A link counts only when it names a regular file inside a searched root.
          try {
            target = await realpath(path);
            st = await stat(target);
          } catch {
            continue;
          }
        } else if (e.isFile()) {
          try {
            st = await lstat(path);
          } catch {
            noteUnreadable(path);
            continue;
          }
        } else continue; // sockets, FIFOs, devices
        if (!st.isFile() || seen.has(path)) continue;
        seen.add(path);
        scanned++;
        if (clock() - started > timeBudgetMs) {
          throw new SessionRequestError(session.SessionErrorCode.SESSION_ERROR_CODE_DEADLINE_EXCEEDED, 'find_files', `the search ran out of its ${timeBudgetMs / 1000} s after scanning ${scanned} files and finding ${found}; narrow the roots or patterns`);
        }
        if (scanned % progressEvery === 0) {
          yield { matches, filesScanned: scanned, truncated: false, unreadablePaths: [] };
          matches = [];
        }
        const realTarget = target;
        const match = await examine(path, realTarget, st, (rule) => {
          const at = within(rule.roots, path);
          if (!at) return undefined;
          return realTarget === path || within([at.root], realTarget) ? at : undefined;
        });
        if (!match) continue;
        if (found === maxResults) {
          truncated = true;
          break walk;
        }
        found++;
        matches.push(match);
        if (matches.length === chunkSize) {
          yield { matches, filesScanned: scanned, truncated: false, unreadablePaths: [] };
          matches = [];
        }
      }
    }
  }
  yield { matches, filesScanned: scanned, truncated, unreadablePaths: unreadable };
}
