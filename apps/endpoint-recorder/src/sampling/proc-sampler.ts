// Per-process CPU and memory samples from /proc (SPEC 1.1.3 Performance: process history).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** USER_HZ: the unit of /proc/<pid>/stat times; 100 on every Linux ABI. */
const CLOCK_TICKS = 100;

export interface ProcStat {
  readonly pid: number;
  readonly ppid: number;
  readonly comm: string;
  /** utime + stime, in ticks. */
  readonly cpuTicks: number;
  /** Start time in ticks after boot. */
  readonly startTicks: number;
  readonly threads: number;
  readonly vmsBytes: number;
  readonly rssBytes: number;
}

export interface ProcessSample {
  readonly pid: number;
  readonly ppid: number;
  readonly comm: string;
  /** Process start, ms since the epoch. */
  readonly startTime: number;
  /** Share of one CPU over the interval, in percent (can exceed 100 for threaded processes). */
  readonly cpuPercent: number;
  readonly rssBytes: number;
  readonly vmsBytes: number;
  readonly threads: number;
}

/** Parses /proc/<pid>/stat and statm; `comm` may hold spaces and parentheses, so split after the last ")". */
export function parseProcStat(pid: number, stat: string, statm: string, pageSize: number): ProcStat | undefined {
  const close = stat.lastIndexOf(')');
  if (close < 0) return undefined;
  const comm = stat.slice(stat.indexOf('(') + 1, close);
  const f = stat.slice(close + 2).split(' '); // f[0] is field 3 (state)
  const m = statm.split(' ');
  const num = (s: string | undefined) => Number(s);
  const st: ProcStat = {
    pid,
    ppid: num(f[1]),
    comm,
    cpuTicks: num(f[11]) + num(f[12]),
    startTicks: num(f[19]),
    threads: num(f[17]),
    vmsBytes: num(m[0]) * pageSize,
    rssBytes: num(m[1]) * pageSize,
  };
  return Number.isFinite(st.cpuTicks) && Number.isFinite(st.rssBytes) ? st : undefined;
}

export interface ProcSamplerOptions {
  readonly procRoot?: string;
  readonly clock?: () => number;
}

/**
 * Reads every /proc/<pid>; a sample's CPU is the tick delta since the previous read of the same
 * process instance (pid + start time). The first read of a process yields no sample.
 */
export class ProcSampler {
  private readonly procRoot: string;
  private readonly clock: () => number;
  private readonly pageSize: number;
  private readonly bootTime: number;
  private previous = new Map<string, { ticks: number; at: number }>();
  /** Pids seen at the last read; the recorder learns exits from it. */
  alive = new Set<number>();

  constructor(opts: ProcSamplerOptions = {}) {
    this.procRoot = opts.procRoot ?? '/proc';
    this.clock = opts.clock ?? Date.now;
    this.pageSize = detectPageSize(this.procRoot);
    this.bootTime = detectBootTime(this.procRoot);
  }

  sample(): ProcessSample[] {
    const now = this.clock();
    const out: ProcessSample[] = [];
    const next = new Map<string, { ticks: number; at: number }>();
    const alive = new Set<number>();
    let names: string[];
    try {
      names = readdirSync(this.procRoot);
    } catch {
      return out;
    }
    for (const name of names) {
      if (!/^\d+$/.test(name)) continue;
      const pid = Number(name);
      let st: ProcStat | undefined;
      try {
        st = parseProcStat(
          pid,
          readFileSync(join(this.procRoot, name, 'stat'), 'latin1'),
          readFileSync(join(this.procRoot, name, 'statm'), 'latin1'),
          this.pageSize,
        );
      } catch {
        continue; // exited between readdir and read
      }
      if (!st) continue;
      alive.add(pid);
      const key = `${pid}:${st.startTicks}`;
      next.set(key, { ticks: st.cpuTicks, at: now });
      const prev = this.previous.get(key);
      if (!prev || now <= prev.at) continue;
      out.push({
        pid,
        ppid: st.ppid,
        comm: st.comm,
        startTime: Math.round(this.bootTime + (st.startTicks * 1000) / CLOCK_TICKS),
        cpuPercent: (((st.cpuTicks - prev.ticks) * 1000) / CLOCK_TICKS / (now - prev.at)) * 100,
        rssBytes: st.rssBytes,
        vmsBytes: st.vmsBytes,
        threads: st.threads,
      });
    }
    this.previous = next;
    this.alive = alive;
    return out;
  }
}

/** Page size: VmRSS (kB) of /proc/self/status against resident pages of /proc/self/statm. */
function detectPageSize(procRoot: string): number {
  try {
    const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(join(procRoot, 'self', 'status'), 'latin1'))?.[1]);
    const pages = Number(readFileSync(join(procRoot, 'self', 'statm'), 'latin1').split(' ')[1]);
    const guess = (kb * 1024) / pages;
    for (const size of [4096, 16384, 65536]) if (Math.abs(guess - size) / size < 0.2) return size;
  } catch {
    // fall through
  }
  return 4096;
}

function detectBootTime(procRoot: string): number {
  try {
    const btime = /^btime (\d+)$/m.exec(readFileSync(join(procRoot, 'stat'), 'latin1'))?.[1];
    if (btime) return Number(btime) * 1000;
  } catch {
    // fall through
  }
  return Date.now() - process.uptime() * 1000;
}
