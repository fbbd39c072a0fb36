// Benchmark (issue #6 §8): N simulated endpoints (own certificates, own control streams) in a
// load-generator process against one broker process. Reports endpoints held with heartbeats
// flowing, broker memory per endpoint, heartbeats/s, session open p50/p99 and ping round trip
// at that load (baseline: the same with one endpoint, in this run), and the time for every
// endpoint to be back after a broker restart.
// Usage: npx tsx bench/broker-load.ts [endpoints=2000] [heartbeatSeconds=5]
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { credentials, Metadata } from '@grpc/grpc-js';
import { moduleServerV1 as ms } from '@dc/proto';
import { reconnectWindowMs } from '../src/gateway/control-channels';
import { makeBenchPki } from './bench-pki';

const N = Number(process.argv[2] ?? 2000);
const HEARTBEAT_S = Number(process.argv[3] ?? 5);
const root = resolve(__dirname, '..', '..', '..');
const TSX = join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs');
const GATEWAY = 27475;
const API = 27480;

interface Line { t: number; [k: string]: number }
function run(script: string, args: string[]): { child: ChildProcess; last: () => Line | undefined; lines: Line[] } {
  const child = spawn(process.execPath, [TSX, join(__dirname, script), ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_OPTIONS: `--expose-gc --no-deprecation ${process.env.BENCH_NODE_OPTIONS ?? ''}` } });
  createInterface({ input: child.stderr! }).on('line', (l) => process.stderr.write(`[${script}] ${l}\n`));
  const lines: Line[] = [];
  createInterface({ input: child.stdout! }).on('line', (l) => {
    try {
      lines.push(JSON.parse(l) as Line);
    } catch {
      /* not a report line */
    }
  });
  return { child, lines, last: () => lines[lines.length - 1] };
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(what: string, check: () => boolean, timeoutMs: number): Promise<number> {
  const t0 = performance.now();
  while (!check()) {
    if (performance.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
  return performance.now() - t0;
}
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};

async function sessionLatencies(count: number, pick: () => number): Promise<{ open: number[]; ping: number[] }> {
  const md = new Metadata();
  md.set('authorization', 'Bearer bench-token-0123456789');
  const client = new ms.SessionServiceClient(`127.0.0.1:${API}`, credentials.createInsecure());
  const open: number[] = [];
  const ping: number[] = [];
  const one = async () => {
    const target = `bench-${String(pick()).padStart(6, '0')}`;
    const t0 = performance.now();
    const r = await new Promise<ms.OpenSessionResponse>((res, rej) =>
      client.openSession({ target: { target: { $case: 'clientId', value: target } }, moduleName: 'bench', waitUntilOpen: true }, md, (e, v) => (e ? rej(e) : res(v))),
    );
    if (r.session?.sessionStatus !== ms.SessionStatus.SESSION_STATUS_OPEN) throw new Error(`session to ${target} not open: ${r.session?.actionDetail}`);
    open.push(performance.now() - t0);
    const t1 = performance.now();
    await new Promise((res, rej) => client.pingSession({ sessionId: r.session!.sessionId, payload: Buffer.from('x') }, md, (e, v) => (e ? rej(e) : res(v))));
    ping.push(performance.now() - t1);
    await new Promise((res, rej) => client.closeSession({ sessionId: r.session!.sessionId, reason: 'bench' }, md, (e, v) => (e ? rej(e) : res(v))));
  };
  for (let i = 0; i < count; i += 4) await Promise.all([one(), one(), one(), one()]);
  client.close();
  return { open, ping };
}

void (async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dc-bench-'));
  const t0 = performance.now();
  const pki = makeBenchPki(N + 1);
  writeFileSync(join(dir, 'pki.json'), JSON.stringify(pki));
  console.log(`PKI: ${N + 1} endpoint certificates in ${Math.round(performance.now() - t0)} ms`);

  // Baseline: a bare grpc-js gateway (Hello -> HelloAck, nothing else), same PKI and load generator.
  const bareN = Math.min(N, 2000);
  const bare = run('bare-gateway.ts', [dir, String(GATEWAY + 1)]);
  await until('the bare gateway', () => bare.lines.length > 0, 60_000);
  const bareCpu0 = bare.last()!.cpuMs;
  const bareLoad = run('loadgen.ts', [dir, `127.0.0.1:${GATEWAY + 1}`, '0', String(bareN), '64']);
  const bareMs = await until(`${bareN} endpoints on the bare gateway`, () => (bare.last()?.channels ?? 0) >= bareN, 600_000);
  const bareCpuPerConnect = (bare.last()!.cpuMs - bareCpu0) / bareN;
  const bareRate = bareN / (bareMs / 1000);
    for (const p of [bareLoad.child, bare.child]) p.kill('SIGKILL');

  let broker = run('broker-process.ts', [dir, String(GATEWAY), String(API), String(HEARTBEAT_S)]);
  await until('the broker', () => broker.lines.length > 0, 60_000);
  await sleep(5500); // past a GC report
  const rssEmpty = Math.min(...broker.lines.slice(-5).map((l) => l.rss));

  // Baseline: one endpoint
  const one = run('loadgen.ts', [dir, `127.0.0.1:${GATEWAY}`, String(N), String(N + 1), '1']);
  await until('one endpoint', () => broker.last()!.channels >= 1, 30_000);
  const baseline = await sessionLatencies(40, () => N); // bench-<N> is the single endpoint

  // Load: N endpoints
  const tLoad = performance.now();
  const cpuBeforeLoad = broker.last()!.cpuMs;
  const load = run('loadgen.ts', [dir, `127.0.0.1:${GATEWAY}`, '0', String(N), '64']);
  const connectMs = await until(`${N} endpoints`, () => (broker.last()?.channels ?? 0) >= N + 1, 600_000).catch((e: Error) => {
    console.log(`${e.message}; got ${broker.last()?.channels}`);
    return performance.now() - tLoad;
  });
  const held = broker.last()!.channels - 1;
  const brokerCpuPerConnect = (broker.last()!.cpuMs - cpuBeforeLoad) / Math.max(1, held);
  const loadgenCpuPerConnect = (load.last()?.cpuMs ?? NaN) / Math.max(1, held);
  await sleep(HEARTBEAT_S * 1000 + 2000);
  const a = broker.last()!;
  await sleep(HEARTBEAT_S * 3000);
  const b = broker.last()!;
  const hbPerSec = ((b.heartbeats - a.heartbeats) / (b.t - a.t)) * 1000;
  const rssLoaded = Math.min(...broker.lines.slice(-5).map((l) => l.rss));
  const atLoad = await sessionLatencies(200, () => Math.floor(Math.random() * N));

  // Restart
  broker.child.kill('SIGTERM');
  await new Promise((r) => broker.child.once('exit', r));
  const tRestart = performance.now();
  broker = run('broker-process.ts', [dir, String(GATEWAY), String(API), String(HEARTBEAT_S)]);
  const backMs = await until('every endpoint back', () => (broker.last()?.channels ?? 0) >= N + 1, 180_000).catch(() => NaN);
  const backCount = broker.last()?.channels ?? 0;
  const restartCpuPerConnect = (broker.last()?.cpuMs ?? NaN) / Math.max(1, backCount);
  const restartMs = performance.now() - tRestart;

  const f = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : 'n/a');
  console.log('\n== Direct Connect broker load (one machine, 2 cores shared with the load generator) ==');
  console.log(`endpoints requested                 ${N} (+1 baseline endpoint), heartbeat every ${HEARTBEAT_S} s`);
  console.log(`endpoints held, heartbeats flowing  ${held}  (all connected in ${(connectMs / 1000).toFixed(1)} s, ${(held / (connectMs / 1000)).toFixed(0)} mTLS connects/s)`);
  console.log(`CPU per mTLS connect + hello      broker ${brokerCpuPerConnect.toFixed(2)} ms, load generator ${loadgenCpuPerConnect.toFixed(2)} ms  (=> at most ${(1000 / brokerCpuPerConnect).toFixed(0)} connects/s per broker core)`);
  console.log(`  baseline: bare grpc-js gateway    ${bareCpuPerConnect.toFixed(2)} ms CPU per connect, ${bareRate.toFixed(0)} connects/s with the same load generator (${bareN} endpoints)  => broker / bare = ${(brokerCpuPerConnect / bareCpuPerConnect).toFixed(2)}`);
  console.log(`broker RSS empty / loaded           ${(rssEmpty / 1048576).toFixed(0)} MB / ${(rssLoaded / 1048576).toFixed(0)} MB  => ${((rssLoaded - rssEmpty) / Math.max(1, held) / 1024).toFixed(1)} KB per endpoint (reference: grpc-js idle mTLS channel + stream ≈ 80 KB)`);
  console.log(`heartbeats processed                ${hbPerSec.toFixed(0)}/s (expected ${(held / HEARTBEAT_S).toFixed(0)}/s)`);
  console.log(`session open  p50 / p99             baseline(1 endpoint) ${f(pct(baseline.open, 50))} / ${f(pct(baseline.open, 99))} ms   at load ${f(pct(atLoad.open, 50))} / ${f(pct(atLoad.open, 99))} ms (n=${atLoad.open.length})`);
  console.log(`session ping  p50 / p99             baseline ${f(pct(baseline.ping, 50))} / ${f(pct(baseline.ping, 99))} ms   at load ${f(pct(atLoad.ping, 50))} / ${f(pct(atLoad.ping, 99))} ms`);
  const windowS = reconnectWindowMs(N + 1, { spreadMs: 20_000, ratePerSecond: 250 }) / 1000;
  console.log(`broker restart: back               ${backCount - 1}/${N} endpoints in ${Number.isFinite(backMs) ? (backMs / 1000).toFixed(1) : `> ${(restartMs / 1000).toFixed(0)}`} s (Goaway window ${windowS.toFixed(0)} s + up to 20% endpoint jitter; target 60 s); broker CPU ${restartCpuPerConnect.toFixed(2)} ms per endpoint back, start-up included`);
  console.log(`load generator RSS                  ${((load.last()?.rss ?? 0) / 1048576).toFixed(0)} MB`);
  for (const p of [load.child, one.child, broker.child]) p.kill('SIGTERM');
  await sleep(500);
  rmSync(dir, { recursive: true, force: true });
  process.exit(0);
})();
