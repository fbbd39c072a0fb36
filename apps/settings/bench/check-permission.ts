// Benchmark: the permission check every service runs on every request, in-process and over gRPC on loopback.
// Run: npx nx run settings:bench (or: cd apps/settings && npx tsx bench/check-permission.ts). Prints figures and a baseline.
import { createHash } from 'node:crypto';
import { commonV1 } from '@dc/proto';
import { startGrpcServer } from '@dc/service-kit';
import pino from 'pino';
import { settingsGrpcServices } from '../src/grpc';
import { openTestSettings } from '../src/testing/test-settings';
import { settingsClients } from '../src/testing/grpc-clients';

function report(name: string, n: number, ms: number, latencies?: number[]): void {
  const rate = Math.round((n / ms) * 1000);
  let extra = '';
  if (latencies) {
    const sorted = [...latencies].sort((a, b) => a - b);
    const p = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))].toFixed(3);
    extra = `  p50 ${p(0.5)} ms  p99 ${p(0.99)} ms`;
  }
  console.log(`${name.padEnd(48)} ${String(n).padStart(7)} ops  ${ms.toFixed(0).padStart(6)} ms  ${String(rate).padStart(8)} ops/s${extra}`);
}

async function main(): Promise<void> {
  const t = openTestSettings();
  const s = t.settings;
  s.users.create('bench', 'uma', ['USER']);
  const { token } = s.tokens.create('bench', 'uma', 'bench', 0);

  const N = 20_000;
  let start = performance.now();
  for (let i = 0; i < N; i++) createHash('sha256').update(token).digest();
  report('baseline: SHA-256 of one token', N, performance.now() - start);

  start = performance.now();
  for (let i = 0; i < N; i++) s.accessControl.check(token, 'SESSION_READ');
  report('in-process AccessControl.check', N, performance.now() - start);

  const grpc = await startGrpcServer({ name: 'bench', host: '127.0.0.1', port: 0, services: settingsGrpcServices(s, pino({ level: 'silent' })).services, log: pino({ level: 'silent' }) });
  const api = settingsClients(`127.0.0.1:${grpc.port}`);
  const req = { token, permission: commonV1.Permission.PERMISSION_SESSION_READ, alternatives: [], method: '/bench' };
  for (let i = 0; i < 200; i++) await api.rbac.call('checkPermission', req); // warm-up

  const M = 3000;
  const lat: number[] = [];
  start = performance.now();
  for (let i = 0; i < M; i++) {
    const t0 = performance.now();
    await api.rbac.call('checkPermission', req);
    lat.push(performance.now() - t0);
  }
  report('gRPC CheckPermission, 1 in flight', M, performance.now() - start, lat);

  const C = 32;
  start = performance.now();
  await Promise.all(Array.from({ length: C }, async () => {
    for (let i = 0; i < M / C; i++) await api.rbac.call('checkPermission', req);
  }));
  report(`gRPC CheckPermission, ${C} in flight`, M, performance.now() - start);

  api.close();
  await grpc.shutdown();
  await t.cleanup();
}

void main();
