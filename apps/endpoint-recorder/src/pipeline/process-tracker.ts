// Processes the recorder knows about, kept ProcessExpirationSeconds after they exit (SPEC 2.6).

export interface TrackedProcess {
  readonly pid: number;
  /** Exec time (ms); events of this pid from this time on belong to this process. */
  readonly startTime: number;
  readonly exe: string | undefined;
  readonly exeSha256: string | undefined;
  /** When the process was seen gone (ms), or undefined while it runs. */
  exitedAt?: number;
  lastSeen: number;
}

export interface ProcessTrackerOptions {
  /** SPEC 2.6 ProcessExpirationSeconds: how long an exited process is kept in memory. */
  readonly processExpirationSeconds: number;
  /** SPEC 2.6 MappingLowerToleranceMS: an event this much before the exec still belongs to it. */
  readonly mappingLowerToleranceMs: number;
  /** SPEC 2.6 MappingUpperToleranceMS: an event this much after the exit still belongs to it. */
  readonly mappingUpperToleranceMs?: number;
  /** Hard cap on tracked processes (memory bound); the least recently seen go first. */
  readonly maxProcesses?: number;
}

/**
 * Maps a pid to the process instance an event belongs to. Exit is learned from the sampler
 * (`/proc/<pid>` gone) or from a new exec of the same pid; a process without any news for
 * ProcessExpirationSeconds after its last event is also dropped, which bounds memory when
 * replaying logs from another machine.
 */
export class ProcessTracker {
  private readonly byPid = new Map<number, TrackedProcess>();
  private readonly maxProcesses: number;
  expired = 0;

  constructor(private readonly opts: ProcessTrackerOptions) {
    this.maxProcesses = opts.maxProcesses ?? 65_536;
  }

  get size(): number {
    return this.byPid.size;
  }

  started(p: Omit<TrackedProcess, 'lastSeen'>): void {
    this.byPid.delete(p.pid); // a new exec replaces the previous image of this pid
    this.byPid.set(p.pid, { ...p, lastSeen: p.startTime });
    if (this.byPid.size > this.maxProcesses) {
      this.byPid.delete(this.byPid.keys().next().value as number);
      this.expired++;
    }
  }

  /** The tracked process an event at `time` of `pid` belongs to, if any. */
  lookup(pid: number, time: number): TrackedProcess | undefined {
    const p = this.byPid.get(pid);
    if (!p || time < p.startTime - this.opts.mappingLowerToleranceMs) return undefined;
    if (p.exitedAt !== undefined && time > p.exitedAt + (this.opts.mappingUpperToleranceMs ?? 0)) return undefined;
    if (time > p.lastSeen) p.lastSeen = time;
    return p;
  }

  exited(pid: number, time: number): void {
    const p = this.byPid.get(pid);
    if (p && p.exitedAt === undefined) p.exitedAt = time;
  }

  /** Forgets everything (ResetIntervalMinutes). */
  clear(): void {
    this.byPid.clear();
  }

  pids(): IterableIterator<number> {
    return this.byPid.keys();
  }

  /** Forgets processes exited (or silent) for longer than ProcessExpirationSeconds. */
  expire(now: number): number {
    const ttl = this.opts.processExpirationSeconds * 1000;
    let n = 0;
    for (const [pid, p] of this.byPid) {
      const since = p.exitedAt ?? p.lastSeen;
      if (now - since > ttl) {
        this.byPid.delete(pid);
        n++;
      }
    }
    this.expired += n;
    return n;
  }
}
