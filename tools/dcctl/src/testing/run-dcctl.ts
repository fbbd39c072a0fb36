// Test helper: runs dcctl in-process with captured stdout/stderr, a given stdin text and environment.
import { PassThrough, Readable } from 'node:stream';
import { runDcctl } from '../program';

export interface DcctlRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** stdout parsed as JSON (for --json runs). */
  json<T = Record<string, unknown>>(): T;
}

export async function dcctl(args: readonly string[], opts: { env: Record<string, string | undefined>; stdin?: string; now?: () => Date }): Promise<DcctlRun> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on('data', (b: Buffer) => out.push(b));
  stderr.on('data', (b: Buffer) => err.push(b));
  const stdin = Readable.from([Buffer.from(opts.stdin ?? '')]);
  const code = await runDcctl(args, { stdout, stderr, stdin, env: opts.env }, { now: opts.now });
  const text = Buffer.concat(out).toString('utf8');
  return {
    code,
    stdout: text,
    stderr: Buffer.concat(err).toString('utf8'),
    json<T>() {
      return JSON.parse(text) as T;
    },
  };
}
