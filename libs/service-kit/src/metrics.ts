// The Prometheus /metrics endpoint (prom-client): process metrics plus each service's own.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { collectDefaultMetrics, Registry } from 'prom-client';

export interface MetricsHandle {
  readonly registry: Registry;
  /** The bound port, or undefined when metrics are disabled. */
  readonly port: number | undefined;
  close(): Promise<void>;
}

/** A registry with the default process metrics, prefixed `dc_`, labelled with the service name. */
export function createMetricsRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry, prefix: 'dc_' });
  return registry;
}

export async function startMetricsServer(opts: {
  readonly registry: Registry;
  readonly enabled: boolean;
  readonly host: string;
  readonly port: number;
  readonly log: Logger;
}): Promise<MetricsHandle> {
  if (!opts.enabled) return { registry: opts.registry, port: undefined, close: async () => {} };
  const server: Server = createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/metrics') {
      opts.registry.metrics().then(
        (text) => {
          res.writeHead(200, { 'content-type': opts.registry.contentType });
          res.end(text);
        },
        (err: unknown) => {
          opts.log.error({ err }, 'metrics collection failed');
          res.writeHead(500).end('metrics collection failed\n');
        },
      );
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try GET /metrics\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(new Error(`cannot listen on ${opts.host}:${opts.port} (metrics): ${err.message}`)));
    server.listen(opts.port, opts.host, resolve);
  });
  const port = (server.address() as AddressInfo).port;
  opts.log.info({ host: opts.host, port }, 'metrics listening');
  return {
    registry: opts.registry,
    port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
