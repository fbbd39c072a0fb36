// dc-audit as operators run it: the built bundle in a real process, on every corpus file.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AuditAssembler } from '@dc/audit';

const workspaceRoot = resolve(import.meta.dirname, '..', '..', '..');
const cli = join(workspaceRoot, 'tools', 'dc-audit', 'dist', 'main.cjs');
const corpora = resolve(workspaceRoot, '..', 'shared', 'corpora');

function corpusFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? corpusFiles(p) : [p];
  });
}

/** Events the library assembles from a file (the CLI must print exactly these). */
function eventCount(file: string): number {
  let n = 0;
  const asm = new AuditAssembler({ onEvent: () => n++ });
  for (const line of readFileSync(file, 'utf8').split('\n')) asm.push(line);
  asm.flush();
  return n;
}

function run(args: string[], input?: string): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [cli, ...args], { input, encoding: 'utf8', maxBuffer: 1 << 28 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('dc-audit', () => {
  it('is built (the test target depends on build)', () => {
    expect(existsSync(cli), `${cli} missing: run node tools/build/build.mjs tools/dc-audit`).toBe(true);
  });

  it('prints one JSON event per line for every corpus file, as many as the library assembles', () => {
    const files = corpusFiles(corpora).filter((f) => !f.endsWith('INDEX.md'));
    expect(files.length).toBeGreaterThan(100);
    const expected = files.reduce((n, f) => n + eventCount(f), 0);
    const { code, stdout, stderr } = run(files);
    expect(stderr).toBe('');
    expect(code).toBe(1); // some corpus files hold comments and broken lines on purpose
    const lines = stdout.split('\n').filter(Boolean);
    expect(lines).toHaveLength(expected);
    for (const line of lines) {
      const e = JSON.parse(line) as { kind: string; serial: number; recordTypes: string[] };
      expect(['process-start', 'file', 'network', 'security', 'other']).toContain(e.kind);
      expect(e.recordTypes.length).toBeGreaterThan(0);
    }
    expect(lines.length).toBeGreaterThan(2900);
  });

  it('exits 0 on a clean file', () => {
    const { code, stdout } = run([join(corpora, 'laurel', 'record-connect.txt')]);
    expect(code).toBe(0);
    expect(stdout.trim().split('\n').map((l) => (JSON.parse(l) as { kind: string }).kind)).toEqual(['network', 'network']);
  });

  it('reads stdin and summarises event kinds with the malformed-line report', () => {
    const log = [
      'type=SYSCALL msg=audit(1.000:1): arch=c000003e syscall=42 success=yes exit=0 pid=3',
      'type=SOCKADDR msg=audit(1.000:1): saddr=02000050C0A800010000000000000000',
      'type=EOE msg=audit(1.000:1):',
      'oops',
    ].join('\n');
    const text = run(['--summary'], log);
    expect(text.code).toBe(1);
    expect(text.stdout).toContain('network        1');
    expect(text.stdout).toContain('stdin:4: missing "type=" at the start of the record: oops');
    const json = run(['--summary', '--json', '-'], log);
    expect(JSON.parse(json.stdout)).toMatchObject({
      events: { network: 1, other: 0 },
      stats: { lines: 4, records: 3, events: 1, malformed: 1 },
      malformed: [{ file: 'stdin', line: 4, reason: 'missing "type=" at the start of the record', text: 'oops' }],
    });
  });

  it('prints a compact table', () => {
    const log = "type=USER_LOGIN msg=audit(1700000000.000:5): pid=9 uid=0 auid=1000 ses=2 msg='op=login acct=\"alice\" exe=\"/usr/sbin/sshd\" hostname=? addr=198.51.100.7 terminal=ssh res=failed'\n";
    const { code, stdout } = run(['--format', 'table'], log);
    expect(code).toBe(0);
    const [header, row] = stdout.trim().split('\n');
    expect(header.split('\t')).toEqual(['TIME', 'SERIAL', 'KIND', 'PID', 'AUID', 'UID', 'EXE', 'DETAIL']);
    expect(row.split('\t')).toEqual(['2023-11-14T22:13:20.000Z', '5', 'security', '9', '1000', '0', '/usr/sbin/sshd', 'login alice failure ssh 198.51.100.7']);
  });

  it('fails clearly on a missing file and on a bad --format', () => {
    const missing = run(['/nonexistent/audit.log']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('dc-audit: cannot read /nonexistent/audit.log');
    const bad = run(['--format', 'xml']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain("argument 'xml' is invalid");
  });
});
