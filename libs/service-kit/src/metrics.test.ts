import pino from 'pino';
import { Counter } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createMetricsRegistry, startMetricsServer } from './metrics';

describe('metrics endpoint', () => {
  it('serves process metrics and the service’s own on /metrics', async () => {
    const registry = createMetricsRegistry('t');
    new Counter({ name: 'dc_test_requests_total', help: 'requests', registers: [registry] }).inc(3);
    const m = await startMetricsServer({ registry, enabled: true, host: '127.0.0.1', port: 0, log: pino({ level: 'silent' }) });
    try {
      const res = await fetch(`http://127.0.0.1:${m.port}/metrics`);
      const text = await res.text();
      expect(res.status).toBe(200);
      expect(text).toMatch(/dc_process_cpu_user_seconds_total\{service="t"\}/);
      expect(text).toMatch(/dc_test_requests_total\{service="t"\} 3/);
      expect((await fetch(`http://127.0.0.1:${m.port}/other`)).status).toBe(404);
    } finally {
      await m.close();
    }
  });
});
