// Samples this machine's real /proc: a busy child process shows CPU use and memory.
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { waitFor } from '@dc/service-kit/testing';
import { parseProcStat, ProcSampler } from './proc-sampler';

describe('ProcSampler', () => {
  it('parses a stat line whose command name holds spaces and parentheses', () => {
    const stat = '4242 (my (odd) name) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 3 0 12345 1000000 300 18446744073709551615';
    const st = parseProcStat(4242, stat, '2000 300 100 1 0 50 0', 4096);
    expect(st).toEqual({ pid: 4242, ppid: 1, comm: 'my (odd) name', cpuTicks: 300, startTicks: 12345, threads: 3, vmsBytes: 2000 * 4096, rssBytes: 300 * 4096 });
  });

  it('reports the CPU and memory of a running process from /proc', async () => {
    const child = spawn(process.execPath, ['-e', 'const end = Date.now() + 20000; while (Date.now() < end) {}'], { stdio: 'ignore' });
    try {
      const sampler = new ProcSampler();
      sampler.sample(); // first read: baseline only
      const mine = await waitFor(() => {
        const s = sampler.sample().find((x) => x.pid === child.pid);
        return s && s.cpuPercent > 20 ? s : undefined;
      }, { what: 'the busy child to show CPU use', timeoutMs: 15_000 });
      expect(mine.rssBytes).toBeGreaterThan(1024 * 1024);
      expect(mine.ppid).toBe(process.pid);
      expect(Math.abs(mine.startTime - Date.now())).toBeLessThan(60_000);
      expect(sampler.alive.has(child.pid!)).toBe(true);
    } finally {
      child.kill();
    }
  });
});
