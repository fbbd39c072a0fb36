// Bench: the broker as its own process, reporting its RSS, channels and heartbeats each second.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { Registry } from 'prom-client';
import { StaticPermissions } from '../src/api/permission-checker';
import { startBroker } from '../src/broker';
import { StaticSettings } from '../src/settings-link/settings-source';
import type { BenchPki } from './bench-pki';

const [dir, gatewayPort, apiPort, intervalSeconds] = process.argv.slice(2);
const pkiData = JSON.parse(readFileSync(join(dir!, 'pki.json'), 'utf8')) as BenchPki;
const settings = new StaticSettings();
settings.policy = { intervalSeconds: Number(intervalSeconds), missedHeartbeatsBeforeOffline: 3, missedHeartbeatsBeforeAlert: 3 };
const registry = new Registry();

void (async () => {
  const broker = await startBroker({
    dataDir: dir!, log: pino({ level: 'warn' }), settings,
    issuer: { enrolEndpoint: () => Promise.reject(new Error('bench: no enrolment')), renewEndpoint: () => Promise.reject(new Error('bench: no renewal')) },
    revocation: { isRevoked: () => false },
    permissions: new StaticPermissions({ 'bench-token-0123456789': 'ADMINISTRATOR' }),
    gateway: { host: '127.0.0.1', port: Number(gatewayPort), tls: { caPem: pkiData.rootPem, ...pkiData.server } },
    api: { host: '127.0.0.1', port: Number(apiPort) },
    metricsRegistry: registry, version: 'bench', reconnectSpreadMs: 20_000, reconnectRatePerSecond: 250, shutdownGraceMs: 1000,
  });
  let reports = 0;
  const report = () => {
    // A full GC every few reports, so RSS reflects what the endpoints hold, not start-up garbage.
    if (reports++ % 5 === 0) (globalThis as { gc?: () => void }).gc?.();
    const hb = (broker.metrics!.heartbeats as unknown as { hashMap: Record<string, { value: number }> }).hashMap;
    const heartbeats = Object.values(hb).reduce((s, v) => s + v.value, 0);
    const cpu = process.cpuUsage();
    process.stdout.write(`${JSON.stringify({ t: Date.now(), cpuMs: (cpu.user + cpu.system) / 1000, rss: process.memoryUsage().rss, heap: process.memoryUsage().heapUsed, channels: broker.hub.size, heartbeats })}\n`);
  };
  setInterval(report, 1000).unref();
  report();
  process.on('SIGTERM', () => {
    void broker.stop().then(() => process.exit(0));
  });
  setInterval(() => {}, 1 << 30);
})();
