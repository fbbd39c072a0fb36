// Test helpers: polling with a deadline, temp dirs, and spawning real app processes.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';

/** The repository root (this file lives at libs/service-kit/src). */
export const workspaceRoot = resolve(__dirname, '..', '..', '..');

/** `shared/` beside the repository: SPEC, corpora and reference tools. */
export const sharedRoot = resolve(workspaceRoot, '..', 'shared');

/** The built entry point of an app or tool, e.g. distEntry('apps/settings'). */
export function distEntry(projectDir: string): string {
  return join(workspaceRoot, projectDir, 'dist', 'main.cjs');
}

/** Polls `check` until it returns a value other than undefined/false, or fails after timeoutMs. */
export async function waitFor<T>(
  check: () => T | undefined | false | Promise<T | undefined | false>,
  opts: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 10_000);
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      const why = lastError ? ` (last error: ${(lastError as Error).message})` : '';
      throw new Error(`timed out after ${opts.timeoutMs ?? 10_000} ms waiting for ${opts.what ?? 'a condition'}${why}`);
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 25));
  }
}

/** A fresh temp directory and a function that removes it. */
export function makeTempDir(prefix = 'dc-test-'): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface SpawnedService {
  readonly child: ChildProcess;
  /** The ports the service logged in its `service started` line. */
  readonly ports: Record<string, number>;
  /** Every stdout line so far, parsed as JSON where possible. */
  readonly logs: Array<Record<string, unknown>>;
  readonly stderr: string[];
  /** Waits for a log line matching the predicate (past or future). */
  waitForLog(match: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** Sends the signal (default SIGTERM) and resolves with the exit code (or the signal name). */
  stop(signal?: NodeJS.Signals): Promise<number | string>;
}

/**
 * Spawns `node <entry> ...args` and resolves once it logs `service started`. Rejects with the
 * process's stderr if it exits first or does not start within startTimeoutMs.
 */
export async function spawnService(opts: {
  entry: string;
  args?: string[];
  env?: Record<string, string>;
  cwd?: string;
  startTimeoutMs?: number;
}): Promise<SpawnedService> {
  const child = spawn(process.execPath, [opts.entry, ...(opts.args ?? [])], {
    cwd: opts.cwd ?? workspaceRoot,
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Array<Record<string, unknown>> = [];
  const stderr: string[] = [];
  let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exitPromise = new Promise<number | string>((res) =>
    child.once('exit', (code, signal) => {
      exited = { code, signal };
      res(code ?? signal ?? -1);
    }),
  );
  createInterface({ input: child.stdout! }).on('line', (line) => {
    try {
      logs.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      logs.push({ msg: line, raw: true });
    }
  });
  createInterface({ input: child.stderr! }).on('line', (line) => stderr.push(line));

  const waitForLog = (match: (line: Record<string, unknown>) => boolean, timeoutMs = 10_000) =>
    waitFor(
      () => {
        const found = logs.find(match);
        if (found) return found;
        if (exited) throw new Error(`process exited (${exited.code ?? exited.signal}): ${stderr.join('\n')}`);
        return undefined;
      },
      { timeoutMs, what: 'a log line' },
    );

  let started: Record<string, unknown>;
  try {
    started = await waitForLog((l) => l.msg === 'service started', opts.startTimeoutMs ?? 20_000);
  } catch (err) {
    child.kill('SIGKILL');
    throw new Error(`${opts.entry} did not start: ${(err as Error).message}\nstderr:\n${stderr.join('\n')}`);
  }
  return {
    child,
    ports: (started.ports ?? {}) as Record<string, number>,
    logs,
    stderr,
    waitForLog,
    async stop(signal = 'SIGTERM') {
      if (!exited) child.kill(signal);
      return exitPromise;
    },
  };
}
export { type AltNames, type KeyPairPem, rsaKeyPair, TestRootCa, type Validity } from './testing-ca';
