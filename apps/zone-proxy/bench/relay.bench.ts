// Zone proxy relay benchmark (issue #7): session request throughput and latency through the
// zone proxy next to a direct connection and next to Debian's haproxy relaying the same TLS
// bytes in TCP mode; bulk relay MB/s through the zone proxy next to haproxy. All figures come
// from one run on the same machine, so compare the ratios.
//
// Topology: endpoint process (a child of this one, as an endpoint is its own machine) →
// [direct | haproxy :tcp | zone proxy process] → gateway (this process, the module server).
// haproxy copies the endpoint's TLS bytes; the zone proxy terminates the endpoint's TLS, checks
// the certificate and relays the decrypted bytes over a relay connection the module server's
// ZoneLinks opened, which serves them with the same gateway handlers as the direct server.
// Needs `haproxy` on PATH (apt-get install haproxy). Run: npx nx run zone-proxy:bench
//
// The module-server side of the link (ZoneLinks) is imported from apps/module-server by path:
// a benchmark, not shipped code, measuring the two halves together as they run in production.
import { type ChildProcess, fork, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { type ClientDuplexStream, Server, ServerCredentials } from '@grpc/grpc-js';
import { gatewayV1 as gateway, type sessionV1 } from '@dc/proto';
import { makeTempDir, waitFor } from '@dc/service-kit/testing';
import { pino } from 'pino';
import type { RelayedGateway } from '../../module-server/src/zone-links/relayed-peer';
import { buildZoneProxy, endpointClient, freePort, MemoryZoneProxySettings, runInstaller, spawnZoneProxy } from '../../module-server/src/zone-links/testing/fixtures';
import { ZoneTestCa } from '../../module-server/src/zone-links/testing/zone-test-ca';
import { ZoneLinks } from '../../module-server/src/zone-links/zone-links';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
/** Routes are measured in turn, ROUNDS times; the median of each figure is reported (the machine is shared). */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONCURRENT_SESSIONS = 8;
const LATENCY_SAMPLES = 1500;
const BULK_BYTES = 64 << 20;
const BULK_CHUNK = 64 << 10;
/** New connections timed per route and round. */
const NEW_CONNECTIONS = 10;

type Driver = {
  attached(send: (r: sessionV1.SessionRequest) => void, end: () => void): void;
  response(r: sessionV1.SessionResponse): void;
};

/** The broker side: each session's driver sends requests and sees the answers. */
class BenchGateway implements RelayedGateway {
  readonly drivers = new Map<string, Driver>();
  enrol: RelayedGateway['enrol'] = (_c, cb) => cb({ code: 12, details: 'not in the bench' } as never, null);
  renewCertificate: RelayedGateway['renewCertificate'] = (_c, cb) => cb({ code: 12, details: 'not in the bench' } as never, null);
  controlChannel: RelayedGateway['controlChannel'] = (call) => call.end();
  sessionStream: RelayedGateway['sessionStream'] = (call) => {
    let driver: Driver | undefined;
    call.on('data', (m: gateway.SessionStreamRequest) => {
      if (m.message?.$case === 'attach') {
        driver = this.drivers.get(m.message.value.sessionId);
        call.write({ message: { $case: 'attached', value: { sessionId: m.message.value.sessionId, moduleName: 'bench', maxConcurrentRequests: 1 } } });
        driver?.attached(
          (r) => call.write({ message: { $case: 'request', value: r } }),
          () => call.end(),
        );
      } else if (m.message?.$case === 'response') driver?.response(m.message.value);
    });
    call.on('end', () => undefined);
  };
}

/** The endpoint side: answers pings with pongs and "bulk" generic requests with 64 KiB chunks. */
function endpointSession(client: gateway.EndpointGatewayServiceClient, sessionId: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const call: ClientDuplexStream<gateway.SessionStreamRequest, gateway.SessionStreamResponse> = client.sessionStream();
    call.on('data', (m: gateway.SessionStreamResponse) => {
      if (m.message?.$case !== 'request') return;
      const r = m.message.value;
      if (r.payload?.$case === 'ping') {
        call.write({ message: { $case: 'response', value: { requestId: r.requestId, chunkIndex: 0, last: true, payload: { $case: 'pong', value: { payload: r.payload.value.payload } } } } });
      } else if (r.payload?.$case === 'generic') {
        const total = Number(r.payload.value.body.toString());
        const body = Buffer.alloc(BULK_CHUNK, 7);
        let sent = 0;
        let index = 0;
        const pump = () => {
          while (sent < total) {
            sent += BULK_CHUNK;
            const ok = call.write({ message: { $case: 'response', value: { requestId: r.requestId, chunkIndex: index++, last: sent >= total, payload: { $case: 'generic', value: { contentType: 'application/octet-stream', body } } } } });
            if (!ok) return void call.once('drain', pump);
          }
        };
        pump();
      }
    });
    call.on('end', () => {
      call.end();
      resolve();
    });
    call.on('error', reject);
    call.write({ message: { $case: 'attach', value: { sessionId, actionId: 'bench' } } });
  });
}

/** A new connection's first call: a fresh client (its own subchannel, so a new TCP + TLS connection) and one Enrol round trip, in ms. */
async function connectOnce(address: string, rootPem: string, cert: { certPem: string; keyPem: string }): Promise<number> {
  const t0 = performance.now();
  const client = endpointClient(address, rootPem, cert, { 'grpc.use_local_subchannel_pool': 1 });
  await new Promise<void>((resolve, reject) =>
    client.enrol({ csrPem: '', enrolmentToken: '', hostName: 'bench', os: 0 }, (err) => (err && err.code !== 12 ? reject(err) : resolve())),
  );
  const ms = performance.now() - t0;
  client.close();
  return ms;
}

/** The endpoint process: opens the session streams it is told to, on the route it is told to; times new connections. */
function endpointProcess(): void {
  let clients: Record<string, gateway.EndpointGatewayServiceClient> = {};
  let setup: { routes: Record<string, string>; rootPem: string; cert: { certPem: string; keyPem: string } } | undefined;
  process.on('message', (m: { setup?: NonNullable<typeof setup>; open?: { route: string; sessionIds: string[]; id: number }; connect?: { route: string; count: number; id: number } }) => {
    if (m.setup) {
      setup = m.setup;
      const { routes, rootPem, cert } = m.setup;
      clients = Object.fromEntries(Object.entries(routes).map(([n, a]) => [n, endpointClient(a, rootPem, cert)]));
      process.send!({ ready: true });
    } else if (m.open) {
      const { route, sessionIds, id } = m.open;
      Promise.all(sessionIds.map((s) => endpointSession(clients[route]!, s))).then(
        () => process.send!({ done: id }),
        (err: unknown) => process.send!({ done: id, error: String(err) }),
      );
    } else if (m.connect && setup) {
      const { route, count, id } = m.connect;
      const s = setup;
      (async () => {
        const times: number[] = [];
        for (let i = 0; i < count; i++) times.push(await connectOnce(s.routes[route]!, s.rootPem, s.cert));
        return times;
      })().then(
        (times) => process.send!({ done: id, times }),
        (err: unknown) => process.send!({ done: id, error: String(err) }),
      );
    }
  });
}

/** Asks the endpoint process to run these sessions and waits until they end. */
let requestSeq = 0;
function runSessions(child: ChildProcess, route: string, sessionIds: string[]): Promise<void> {
  const id = ++requestSeq;
  return new Promise((resolve, reject) => {
    const onMessage = (m: { done?: number; error?: string }) => {
      if (m.done !== id) return;
      child.off('message', onMessage);
      if (m.error) reject(new Error(m.error));
      else resolve();
    };
    child.on('message', onMessage);
    child.send({ open: { route, sessionIds, id } });
  });
}

/** New connections through a route, one after another: ms from a fresh client to its first answer. */
function connectTimes(child: ChildProcess, route: string): Promise<number[]> {
  const id = ++requestSeq;
  return new Promise((resolve, reject) => {
    const onMessage = (m: { done?: number; error?: string; times?: number[] }) => {
      if (m.done !== id) return;
      child.off('message', onMessage);
      if (m.error) reject(new Error(m.error));
      else resolve(m.times!);
    };
    child.on('message', onMessage);
    child.send({ connect: { route, count: NEW_CONNECTIONS, id } });
  });
}

const ping = (id: number): sessionV1.SessionRequest => ({ requestId: String(id), payload: { $case: 'ping', value: { payload: Buffer.alloc(64, 1) } } }) as sessionV1.SessionRequest;

/** Sequential round trips on one session: latency in ms per request. */
async function latency(gw: BenchGateway, child: ChildProcess, route: string, tag: string): Promise<number[]> {
  const samples: number[] = [];
  const sessionId = `lat-${tag}`;
  let t0 = 0;
  gw.drivers.set(sessionId, {
    attached(send, end) {
      let n = 0;
      const next = () => {
        if (n++ >= LATENCY_SAMPLES + 100) return end();
        t0 = performance.now();
        send(ping(n));
      };
      this.response = () => {
        if (n > 100) samples.push(performance.now() - t0); // the first 100 warm up
        next();
      };
      next();
    },
    response: () => undefined,
  });
  await runSessions(child, route, [sessionId]);
  return samples;
}

/** CONCURRENT_SESSIONS sessions each doing sequential round trips for SECONDS: requests per second. */
async function throughput(gw: BenchGateway, child: ChildProcess, route: string, tag: string): Promise<number> {
  let done = 0;
  const stopAt = performance.now() + SECONDS * 1000;
  const ids = Array.from({ length: CONCURRENT_SESSIONS }, (_, i) => `thr-${tag}-${i}`);
  for (const sessionId of ids) {
    gw.drivers.set(sessionId, {
      attached(send, end) {
        let n = 0;
        this.response = () => {
          done++;
          if (performance.now() > stopAt) return end();
          send(ping(++n));
        };
        send(ping(++n));
      },
      response: () => undefined,
    });
  }
  const t0 = performance.now();
  await runSessions(child, route, ids);
  return done / ((performance.now() - t0) / 1000);
}

/** One request answered with BULK_BYTES in 64 KiB chunks: MB/s. */
async function bulk(gw: BenchGateway, child: ChildProcess, route: string, tag: string): Promise<number> {
  const sessionId = `bulk-${tag}`;
  let bytes = 0;
  let t0 = 0;
  let t1 = 0;
  gw.drivers.set(sessionId, {
    attached(send, end) {
      t0 = performance.now();
      this.response = (r) => {
        if (r.payload?.$case === 'generic') bytes += r.payload.value.body.length;
        if (r.last) {
          t1 = performance.now();
          end();
        }
      };
      send({ requestId: 'bulk', payload: { $case: 'generic', value: { operation: 'bench.bulk', contentType: 'text/plain', body: Buffer.from(String(BULK_BYTES)) } } } as sessionV1.SessionRequest);
    },
    response: () => undefined,
  });
  await runSessions(child, route, [sessionId]);
  return bytes / (1 << 20) / ((t1 - t0) / 1000);
}

/** CPU time (user + system) a process has used so far, in ms (Linux /proc). */
function cpuMs(pid: number | undefined): number {
  if (!pid) return NaN;
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime, stime in clock ticks (USER_HZ 100)
}

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;

async function main(): Promise<void> {
  const tmp = makeTempDir('dc-zone-bench-');
  const cleanup: Array<() => unknown> = [() => tmp.remove()];
  try {
    const ca = new ZoneTestCa();
    const gw = new BenchGateway();

    // Direct: the gateway's handlers on a mutual-TLS gRPC server, as :17475 runs them.
    const server = new Server();
    server.addService(gateway.EndpointGatewayServiceService, gw as never);
    const sc = ca.serverCertificate();
    const directPort = await new Promise<number>((res, rej) =>
      server.bindAsync('127.0.0.1:0', ServerCredentials.createSsl(Buffer.from(ca.rootPem), [{ cert_chain: Buffer.from(sc.certPem), private_key: Buffer.from(sc.keyPem) }], true), (e, p) => (e ? rej(e) : res(p))),
    );
    cleanup.push(() => server.forceShutdown());

    // haproxy in TCP mode in front of the direct server: the same TLS bytes, relayed.
    const haproxyPort = await freePort();
    const cfg = join(tmp.dir, 'haproxy.cfg');
    writeFileSync(cfg, `global\n  maxconn 1000\ndefaults\n  mode tcp\n  timeout connect 5s\n  timeout client 1h\n  timeout server 1h\nfrontend fe\n  bind 127.0.0.1:${haproxyPort}\n  default_backend be\nbackend be\n  server direct 127.0.0.1:${directPort}\n`);
    const haproxy = spawn('haproxy', ['-db', '-f', cfg], { stdio: 'ignore' });
    cleanup.push(() => haproxy.kill('SIGKILL'));

    // The zone proxy process, provisioned and linked by the module server's ZoneLinks.
    const entry = buildZoneProxy();
    const installed = runInstaller(entry, join(tmp.dir, 'zone'));
    const proxy = await spawnZoneProxy(entry, join(tmp.dir, 'zone'), 'info');
    cleanup.push(() => proxy.stop('SIGKILL'));
    const [endpointPort, linkPort] = [await freePort(), await freePort()];
    const record = { id: 'zp-bench', name: 'bench', endpointTargetHostname: 'localhost', endpointInboundIpAddress: '127.0.0.1', endpointInboundPort: endpointPort, moduleServerTargetHostname: '127.0.0.1', moduleServerInboundIpAddress: '127.0.0.1', moduleServerInboundPort: linkPort, payloadCertificateFingerprintSha256: installed.fingerprintSha256 };
    const settings = new MemoryZoneProxySettings();
    settings.records.set(record.id, { record, provisionSecret: installed.secret, payloadCertificatePem: installed.certificatePem });
    const identity = ca.moduleServerIdentity();
    const links = new ZoneLinks({ settings, ca, identity: () => identity, gateway: gw, log: pino({ level: 'silent' }), moduleServerVersion: 'bench', addresses: () => ({ provisioning: `127.0.0.1:${proxy.ports.provisioning}` }) });
    cleanup.push(() => links.close());
    await links.refreshTrust();
    links.reconcile([record]);
    await waitFor(() => links.status(record.id)?.status === 'CONNECTED', { timeoutMs: 30_000, what: 'the zone link' });

    const ep = ca.endpoint('bench-endpoint');
    const routes = { direct: `127.0.0.1:${directPort}`, haproxy: `127.0.0.1:${haproxyPort}`, 'zone proxy': `127.0.0.1:${endpointPort}` };
    const child = fork(__filename, ['--endpoint'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    cleanup.push(() => child.kill('SIGKILL'));
    await new Promise<void>((resolve) => {
      child.once('message', () => resolve());
      child.send({ setup: { routes, rootPem: ca.rootPem, cert: ep } });
    });

    // The relaying process of each route, whose CPU per request is measured (direct has none).
    const relayPid: Record<string, number | undefined> = { direct: undefined, haproxy: haproxy.pid, 'zone proxy': proxy.child.pid };
    const runs: Record<string, Array<{ p50: number; p99: number; rps: number; mbps: number; cpuPerKReq: number; connectMs: number }>> = {};
    for (let round = 0; round < ROUNDS; round++) {
      for (const name of Object.keys(routes)) {
        const tag = `${name.replace(/\W/g, '')}-${round}`;
        const lat = await latency(gw, child, name, tag);
        const cpu0 = cpuMs(relayPid[name]);
        const rps = await throughput(gw, child, name, tag);
        const cpuPerKReq = (cpuMs(relayPid[name]) - cpu0) / ((rps * SECONDS) / 1000);
        const mbps = await bulk(gw, child, name, tag);
        const connectMs = pct(await connectTimes(child, name), 50);
        (runs[name] ??= []).push({ p50: pct(lat, 50), p99: pct(lat, 99), rps, mbps, cpuPerKReq, connectMs });
      }
    }
    const median = (xs: number[]) => pct(xs, 50);
    const results = Object.fromEntries(
      Object.entries(runs).map(([n, rs]) => [n, { p50: median(rs.map((r) => r.p50)), p99: median(rs.map((r) => r.p99)), rps: median(rs.map((r) => r.rps)), mbps: median(rs.map((r) => r.mbps)), cpuPerKReq: median(rs.map((r) => r.cpuPerKReq)), connectMs: median(rs.map((r) => r.connectMs)) }]),
    );
    // Other work on a shared machine drifts between rounds: the ratio within each round, then its median.
    const roundRatios = runs['zone proxy']!.map((z, i) => (z.rps / runs.haproxy![i]!.rps).toFixed(2));
    const z = results['zone proxy']!;
    const h = results.haproxy!;
    const d = results.direct!;
    const rows = Object.entries(results).map(
      ([n, r]) =>
        `${n.padEnd(11)} p50 ${r.p50.toFixed(3)} ms  p99 ${r.p99.toFixed(3)} ms  ${r.rps.toFixed(0).padStart(6)} req/s (${CONCURRENT_SESSIONS} sessions)  bulk ${r.mbps.toFixed(1).padStart(6)} MB/s` +
        (Number.isFinite(r.cpuPerKReq) ? `  relay CPU ${r.cpuPerKReq.toFixed(1)} ms per 1000 req` : ''),
    );
    process.stdout.write(
      [
        `zone proxy relay bench — medians of ${ROUNDS} rounds; ${SECONDS}s per throughput run, ${LATENCY_SAMPLES} latency samples, ${BULK_BYTES >> 20} MiB bulk in ${BULK_CHUNK >> 10} KiB chunks; load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`,
        ...rows,
        `session throughput: zone proxy / haproxy = ${(z.rps / h.rps).toFixed(2)} (target >= 0.80); zone proxy / direct = ${(z.rps / d.rps).toFixed(2)}; haproxy / direct = ${(h.rps / d.rps).toFixed(2)}`,
        `zone proxy / haproxy per round: ${roundRatios.join(' ')} (median ${median(roundRatios.map(Number)).toFixed(2)})`,
        `added p50 latency over direct: zone proxy ${(z.p50 - d.p50).toFixed(3)} ms (target < 1 ms), haproxy ${(h.p50 - d.p50).toFixed(3)} ms`,
        `new connection to its first answer (p50): direct ${d.connectMs.toFixed(1)} ms, haproxy ${h.connectMs.toFixed(1)} ms, zone proxy ${z.connectMs.toFixed(1)} ms (the relay connection's TLS handshake)`,
        `bulk relay: zone proxy / haproxy = ${(z.mbps / h.mbps).toFixed(2)}; zone proxy / direct = ${(z.mbps / d.mbps).toFixed(2)}`,
        `zone link activity: ${JSON.stringify({ ...links.status(record.id)!.activity, observedTime: undefined })}`,
        '',
      ].join('\n'),
    );
  } finally {
    for (const f of cleanup.reverse()) await f();
  }
}

if (process.argv.includes('--endpoint')) endpointProcess();
else {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`bench failed: ${(err as Error).stack}\n`);
      process.exit(1);
    },
  );
}
