// Benchmark (not a test): parse + assemble + interpret ≥ 1 M records, against `ausearch -i` on the same file.
// Run: cd libs/audit && npx tsx bench/parse-bench.ts [minRecords]
import { execFileSync, spawnSync } from 'node:child_process';
import { createReadStream, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { AuditAssembler, parseAuditStream } from '@dc/audit';

const shared = resolve(__dirname, '..', '..', '..', '..', 'shared');
const corpora = join(shared, 'corpora');
// A mix of real captures: PAM/user-space (AIT), syscall traces with EXECVE/PATH/CWD/PROCTITLE
// (laurel, osquery), RHEL7 boot + activity (go-libaudit), network (laurel connect).
const SOURCES = [
  'LLM-log-parsing/russelmitchell_intranet_server_audit.log',
  'laurel/shell-proc-trace-confusion.txt',
  'laurel/proc-trace-dpkg-l.txt',
  'laurel/record-connect.txt',
  'osquery/process_file_events_tests.extracted.log',
  'go-libaudit/auparse_testdata_audit-rhel7.log',
];
const RECORD = /^(node=\S+ )?type=\S+ msg=audit\(/;

function main(): void {
  const minRecords = Number(process.argv[2] ?? 1_000_000);
  const dir = mkdtempSync(join(tmpdir(), 'dc-audit-bench-'));
  try {
    const lines = SOURCES.flatMap((f) => readFileSync(join(corpora, f), 'utf8').split('\n')).filter((l) => RECORD.test(l));
    const src = join(dir, 'mix.log');
    writeFileSync(src, lines.join('\n') + '\n');
    const copies = Math.ceil(minRecords / lines.length);
    const big = join(dir, 'big.log');
    execFileSync(join(shared, 'tools', 'amplify'), [src, big, String(copies)]);
    const records = lines.length * copies;
    const mb = statSync(big).size / 1e6;
    console.log(`input: ${records} records (${copies} × ${lines.length}), ${mb.toFixed(1)} MB, ${big}`);

    // Warm the JIT on the (small) source first, as a long-running recorder would be.
    for (let k = 0; k < 30; k++) {
      const warm = new AuditAssembler({ onEvent: () => undefined });
      for (const l of lines) warm.push(l);
      warm.flush();
    }

    // Baselines over the same bytes in memory: newline counting only, then a naive field split.
    const text = readFileSync(big, 'utf8');
    let t = process.cpuUsage();
    let n = 0;
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) n++;
    const scanUs = cpuUs(t);
    report('baseline: newline scan only (in memory)', n, scanUs, scanUs);
    t = process.cpuUsage();
    let fields = 0;
    let from = 0;
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) {
      for (const token of text.slice(from, i).split(' ')) if (token.indexOf('=') > 0) fields++;
      from = i + 1;
    }
    const splitUs = cpuUs(t);
    report(`baseline: naive split(' ') per line (${fields} k=v)`, n, splitUs, splitUs);

    // Ours, push-style on the in-memory text (parse + assemble + interpret).
    let events = 0;
    const asm = new AuditAssembler({ onEvent: () => events++ });
    t = process.cpuUsage();
    let start = 0;
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) {
      asm.push(text.slice(start, i));
      start = i + 1;
    }
    asm.flush();
    const pushUs = cpuUs(t);
    report(`@dc/audit AuditAssembler (in memory, ${events} events)`, asm.stats.records, pushUs, pushUs);

    // Ours, streaming from the file (what dc-audit does).
    void streamRun(big).then(({ records: r, events: ev, cpu, wall }) => {
      report(`@dc/audit parseAuditStream (file, ${ev} events)`, r, cpu, wall);

      // Reference: ausearch -i (interprets) and --raw (groups only), same file, same run.
      const aus = join(shared, 'tools', 'ausearch');
      execFileSync(aus, ['--input', src, '--raw'], { stdio: 'ignore' }); // unpack once, outside timing
      const interp = timeChild(aus, ['--input', big, '-i']);
      report('ausearch -i', records, interp.cpu, interp.wall);
      const raw = timeChild(aus, ['--input', big, '--raw']);
      report('ausearch --raw', records, raw.cpu, raw.wall);

      const ours = r / (cpu / 1e6);
      const theirs = records / (interp.cpu / 1e6);
      console.log(`\nratio @dc/audit stream / ausearch -i (records per CPU second): ${(ours / theirs).toFixed(2)}×`);
      console.log(`CPU per record: stream ${(cpu / r).toFixed(2)} µs, in-memory ${(pushUs / asm.stats.records).toFixed(2)} µs (target ≤ 2 µs)`);
      rmSync(dir, { recursive: true, force: true });
    });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

async function streamRun(file: string): Promise<{ records: number; events: number; cpu: number; wall: number }> {
  const t = process.cpuUsage();
  const w = performance.now();
  const s = parseAuditStream(createReadStream(file));
  let events = 0;
  for await (const e of s) if (e) events++;
  return { records: s.stats.records, events, cpu: cpuUs(t), wall: (performance.now() - w) * 1000 };
}

function cpuUs(since: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(since);
  return d.user + d.system;
}

/** Runs a child under /usr/bin/time to get its user+system CPU; output discarded. */
function timeChild(cmd: string, args: string[]): { cpu: number; wall: number } {
  const w = performance.now();
  const r = spawnSync('/usr/bin/time', ['-f', '%U %S', cmd, ...args], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', maxBuffer: 1 << 26 });
  const wall = (performance.now() - w) * 1000;
  const last = r.stderr.trim().split('\n').pop() ?? '';
  const [u, s] = last.split(' ').map(Number);
  return { cpu: (u + s) * 1e6, wall };
}

function report(name: string, records: number, cpuUsTotal: number, wallUs: number): void {
  const perSec = records / (cpuUsTotal / 1e6);
  console.log(
    `${name.padEnd(55)} ${String(records).padStart(9)} rec  cpu ${(cpuUsTotal / 1e6).toFixed(2)} s  wall ${(wallUs / 1e6).toFixed(2)} s  ${Math.round(perSec).toLocaleString('en-US').padStart(10)} rec/s`,
  );
}

main();
