// Property test: damaged corpus lines (truncated, spliced, mutated, duplicated serials, huge values)
// never throw, never hang, and never cost the valid event that follows the damage. Fixed seed.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AuditAssembler } from '../assembly/assembler';
import { parseAuditStream } from '../stream/parse-stream';
import type { AuditEvent } from '../types';

const corpora = resolve(import.meta.dirname, '..', '..', '..', '..', '..', 'shared', 'corpora');
const SEED = 20261123;

function corpusLines(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return corpusLines(p);
    return readFileSync(p, 'utf8').split('\n').filter((l) => /^(node=\S+ )?type=\S+ msg=audit\(/.test(l));
  });
}

const LINES = corpusLines(corpora);
const SPECIALS = ['\x1d', '"', "'", '{', '}', '=', ' ', '\0', '\r', ':', ')', '(', '\uFFFD', 'é', 'msg=', "msg='", 'type=', 'node='];

const line = fc.integer({ min: 0, max: LINES.length - 1 }).map((i) => LINES[i]);
const damaged: fc.Arbitrary<string> = fc.oneof(
  // truncated anywhere, including mid-value and mid-header
  fc.tuple(line, fc.nat()).map(([l, n]) => l.slice(0, n % (l.length + 1))),
  // two lines spliced together
  fc.tuple(line, line, fc.nat(), fc.nat()).map(([a, b, i, j]) => a.slice(0, i % (a.length + 1)) + b.slice(j % (b.length + 1))),
  // random bytes and separators written over the line
  fc
    .tuple(line, fc.array(fc.tuple(fc.nat(), fc.oneof(fc.constantFrom(...SPECIALS), fc.string({ maxLength: 3 }))), { minLength: 1, maxLength: 8 }))
    .map(([l, edits]) => edits.reduce((s, [at, text]) => { const k = at % (s.length + 1); return s.slice(0, k) + text + s.slice(k + 1); }, l)),
  // another record's serial (duplicated serials, events that collide)
  fc.tuple(line, line).map(([a, b]) => a.replace(/:\d+\)/, /:\d+\)/.exec(b)?.[0] ?? ':1)')),
  // huge values: a long hex proctitle, a long quoted path, a long unquoted token
  fc.tuple(line, fc.integer({ min: 1_000, max: 300_000 }), fc.constantFrom('proctitle=', 'name="', 'a0=')).map(([l, n, key]) => `${l} ${key}${'4'.repeat(n)}`),
  // pure noise
  fc.string({ maxLength: 200 }),
);

/** A valid event on a node no damage can produce; it must come out whole after any damage. */
const SENTINEL = [
  'node=fuzz-sentinel type=SYSCALL msg=audit(1700000000.001:777): arch=c000003e syscall=59 success=yes exit=0 ppid=1 pid=4242 auid=1000 uid=1000 euid=1000 ses=9 tty=pts3 comm="true" exe="/usr/bin/true"',
  'node=fuzz-sentinel type=EXECVE msg=audit(1700000000.001:777): argc=2 a0="true" a1=2D2D68656C70',
  'node=fuzz-sentinel type=CWD msg=audit(1700000000.001:777): cwd="/"',
  'node=fuzz-sentinel type=EOE msg=audit(1700000000.001:777): ',
];

function isSentinel(e: AuditEvent): boolean {
  return e.node === 'fuzz-sentinel' && e.serial === 777;
}

function checkSentinel(events: AuditEvent[]): void {
  const found = events.filter(isSentinel);
  expect(found).toHaveLength(1);
  expect(found[0]).toMatchObject({
    kind: 'process-start', recordTypes: ['SYSCALL', 'EXECVE', 'CWD', 'EOE'], argv: ['true', '--help'], cwd: '/',
    process: { pid: 4242, exe: '/usr/bin/true', success: true, syscall: 'execve' },
  });
}

describe('robustness against damaged input', () => {
  it('has corpus lines to damage', () => {
    expect(LINES.length).toBeGreaterThan(3000);
  });

  it('never throws and never loses the valid event after the damage (push API)', () => {
    fc.assert(
      fc.property(fc.array(damaged, { minLength: 1, maxLength: 30 }), (bad) => {
        const events: AuditEvent[] = [];
        const asm = new AuditAssembler({ onEvent: (e) => events.push(e) }, { maxOpenEvents: 16 });
        for (const l of bad) asm.push(l);
        for (const l of SENTINEL) asm.push(l);
        asm.flush();
        checkSentinel(events);
        expect(asm.stats.lines).toBe(bad.length + SENTINEL.length);
        expect(asm.stats.records + asm.stats.malformed).toBeLessThanOrEqual(asm.stats.lines);
        for (const e of events) expect(() => JSON.stringify(e)).not.toThrow();
      }),
      { seed: SEED, numRuns: 300, interruptAfterTimeLimit: 25_000 },
    );
  }, 60_000);

  it('never throws and never loses the valid event after the damage (stream API, arbitrary chunks)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(damaged, { minLength: 1, maxLength: 10 }), fc.integer({ min: 1, max: 4096 }), async (bad, size) => {
        const text = Buffer.from([...bad, ...SENTINEL].join('\n'), 'utf8');
        const chunks: Buffer[] = [];
        for (let i = 0; i < text.length; i += size) chunks.push(text.subarray(i, i + size));
        const events: AuditEvent[] = [];
        for await (const e of parseAuditStream(chunks)) events.push(e);
        checkSentinel(events);
      }),
      { seed: SEED, numRuns: 100, interruptAfterTimeLimit: 15_000 },
    );
  }, 60_000);
});
