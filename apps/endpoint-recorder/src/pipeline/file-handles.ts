// SPEC 2.6 MaxFileHandlesPerProcess: the open files (descriptors) the recorder tracks per process,
// so fd-based system calls (write, pwrite, ftruncate, fchmod, fchown…) name the file they change.
import type { AuditEvent } from '@dc/audit';

/** System calls that return a new descriptor for the path in their PATH records. */
const OPENS = new Set(['open', 'openat', 'openat2', 'creat', 'open_by_handle_at']);
/** System calls whose first argument is the descriptor of the file they act on. */
const BY_FD = new Set([
  'write', 'writev', 'pwrite', 'pwrite64', 'pwritev', 'pwritev2',
  'ftruncate', 'ftruncate64', 'fallocate', 'fchmod', 'fchown', 'fchown32',
]);
const DUPS = new Set(['dup', 'dup2', 'dup3']);

/** The SYSCALL record's argument `a0` (hex), as a descriptor number. */
function firstArg(event: AuditEvent): number | undefined {
  const raw = event.records.find((r) => r.type === 'SYSCALL')?.get('a0');
  const n = raw === undefined ? NaN : parseInt(raw, 16);
  return Number.isSafeInteger(n) && n >= 0 && n < 2 ** 31 ? n : undefined;
}

interface Handles {
  /** fd → path; Map order is recency (least recently used first). */
  readonly fds: Map<number, string>;
  lastSeen: number;
}

export interface FileHandleStats {
  /** Descriptors held now, all processes. */
  readonly tracked: number;
  /** Descriptors forgotten because a process held more than MaxFileHandlesPerProcess. */
  readonly evicted: number;
  /** fd-based file events whose path came from a tracked descriptor. */
  readonly resolved: number;
}

/**
 * Per process, the descriptors its successful opens returned and the path each names; a dup
 * copies one, a close (or an open the recorder cannot name, which reuses the number) forgets it.
 * At most `maxPerProcess` per process (0 = none tracked): beyond it the least recently used goes,
 * and is counted. A process silent for `ttlMs` (ProcessExpirationSeconds) is forgotten whole.
 *
 * Limits of the audit view: only the system calls the audit rules report are seen, so a close
 * the rules do not report leaves a descriptor that may later name another file.
 */
export class FileHandleTable {
  private readonly byPid = new Map<number, Handles>();
  private held = 0;
  private evictedCount = 0;
  private resolvedCount = 0;

  constructor(
    private readonly maxPerProcess: number,
    private readonly ttlMs: number,
    private readonly maxProcesses = 65_536,
  ) {}

  /**
   * Learns from an event (open, dup, close) and, for an fd-based file event without a path,
   * returns the path its descriptor names.
   */
  observe(event: AuditEvent, now: number): string | undefined {
    const pid = event.process.pid;
    const syscall = event.process.syscall;
    if (this.maxPerProcess === 0 || pid === undefined || syscall === undefined) return undefined;
    const exit = event.process.exit;
    const ok = event.process.success !== false && exit !== undefined && exit >= 0;
    if (OPENS.has(syscall)) {
      if (!ok) return undefined;
      if (event.kind === 'file' && event.path !== undefined) this.set(pid, exit, event.path, now);
      else this.forget(pid, exit); // a read-only open reuses the number for a file not tracked
      return undefined;
    }
    const byFd = event.kind === 'file' && event.path === undefined && BY_FD.has(syscall);
    if (!byFd && syscall !== 'close' && !DUPS.has(syscall)) return undefined; // most events: nothing to parse
    const fd = firstArg(event);
    if (fd === undefined) return undefined;
    if (DUPS.has(syscall)) {
      if (!ok) return undefined;
      const path = this.touch(pid, fd, now);
      if (path === undefined) this.forget(pid, exit);
      else this.set(pid, exit, path, now);
      return undefined;
    }
    if (syscall === 'close') {
      this.forget(pid, fd);
      return undefined;
    }
    if (byFd) {
      const path = this.touch(pid, fd, now);
      if (path !== undefined) this.resolvedCount++;
      return path;
    }
    return undefined;
  }

  /** A process is gone (its descriptors with it). */
  exited(pid: number): void {
    const h = this.byPid.get(pid);
    if (!h) return;
    this.held -= h.fds.size;
    this.byPid.delete(pid);
  }

  /** Forgets every process not in `alive` (a /proc listing); returns how many. */
  keepOnly(alive: ReadonlySet<number>): number {
    let n = 0;
    for (const pid of [...this.byPid.keys()]) {
      if (!alive.has(pid)) {
        this.exited(pid);
        n++;
      }
    }
    return n;
  }

  /** Forgets processes silent for longer than the TTL. */
  expire(now: number): void {
    for (const [pid, h] of this.byPid) if (now - h.lastSeen > this.ttlMs) this.exited(pid);
  }

  clear(): void {
    this.byPid.clear();
    this.held = 0;
  }

  stats(): FileHandleStats {
    return { tracked: this.held, evicted: this.evictedCount, resolved: this.resolvedCount };
  }

  private touch(pid: number, fd: number, now: number): string | undefined {
    const h = this.byPid.get(pid);
    const path = h?.fds.get(fd);
    if (!h || path === undefined) return undefined;
    h.lastSeen = now;
    h.fds.delete(fd);
    h.fds.set(fd, path);
    return path;
  }

  private set(pid: number, fd: number, path: string, now: number): void {
    let h = this.byPid.get(pid);
    if (!h) {
      h = { fds: new Map(), lastSeen: now };
      this.byPid.set(pid, h);
      if (this.byPid.size > this.maxProcesses) this.exited(this.byPid.keys().next().value as number);
    }
    h.lastSeen = now;
    if (h.fds.delete(fd)) this.held--;
    h.fds.set(fd, path);
    this.held++;
    if (h.fds.size > this.maxPerProcess) {
      h.fds.delete(h.fds.keys().next().value as number);
      this.held--;
      this.evictedCount++;
    }
  }

  private forget(pid: number, fd: number): void {
    const h = this.byPid.get(pid);
    if (h?.fds.delete(fd)) this.held--;
  }
}
