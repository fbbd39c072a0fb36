// A real broker on 127.0.0.1:0 for tests: TestCa, fixed settings and tokens, a manual clock,
// real gRPC and real mutual TLS; plus module API clients carrying a bearer token.
import { type CallOptions, credentials, Metadata } from '@grpc/grpc-js';
import { join } from 'node:path';
import { makeTempDir } from '@dc/service-kit/testing';
import pino, { type Logger } from 'pino';
import type { ApiDeps } from '../api/api-services';
import { StaticPermissions } from '../api/permission-checker';
import { type Broker, startBroker } from '../broker';
import { ManualClock } from '../clock';
import { moduleserver as ms } from '../contracts';
import { StaticSettings } from '../settings-link/settings-source';
import { TestCa } from './test-ca';
import { enrolTestEndpoint, TestEndpoint, type TestEndpointOptions } from './test-endpoint';

export const TOKENS = { admin: 'tok-admin', user: 'tok-user', readonly: 'tok-readonly', service: 'tok-service' } as const;

export interface Harness {
  readonly ca: TestCa;
  readonly settings: StaticSettings;
  readonly clock: ManualClock;
  readonly dataDir: string;
  broker: Broker;
  readonly gatewayAddress: () => string;
  /** Module API clients for a token. */
  api(token?: string): ApiClients;
  /** Enrols and connects an endpoint. */
  endpoint(hostName: string, opts?: Partial<TestEndpointOptions>): Promise<TestEndpoint>;
  restart(): Promise<void>;
  close(): Promise<void>;
}

export interface ApiClients {
  endpoints: ms.EndpointServiceClient;
  sessions: ms.SessionServiceClient;
  events: ms.EventServiceClient;
  admin: ms.AdminServiceClient;
  metadata: Metadata;
  close(): void;
}

/** Promisified unary call: call(client.method.bind(client), request, metadata). */
export function unary<Req, Res>(
  fn: (req: Req, md: Metadata, opts: Partial<CallOptions>, cb: (err: Error | null, res: Res) => void) => unknown,
  req: Req,
  md: Metadata,
): Promise<Res> {
  return new Promise((resolve, reject) => fn(req, md, {}, (err, res) => (err ? reject(err) : resolve(res))));
}

let sharedCa: TestCa | undefined;
let sharedServer: { certPem: string; keyPem: string } | undefined;

export async function startHarness(
  opts: { gatewayPort?: number; reconnectSpreadMs?: number; log?: Logger; apiExtras?: Partial<ApiDeps>; configurationSpreadMs?: number } = {},
): Promise<Harness> {
  // One CA and server certificate per test file: key generation is the slow part of a test.
  sharedCa ??= new TestCa();
  sharedServer ??= sharedCa.serverCertificate();
  const ca = sharedCa;
  const server = sharedServer;
  const settings = new StaticSettings();
  const clock = new ManualClock(Date.now());
  const tmp = makeTempDir('dc-broker-it-');
  const log = opts.log ?? pino({ level: process.env.DC_TEST_LOG ?? 'silent' });
  const clients: ApiClients[] = [];
  const endpoints: TestEndpoint[] = [];
  let gatewayPort = opts.gatewayPort ?? 0;
  const start = () =>
    startBroker({
      dataDir: tmp.dir, log, clock, issuer: ca, revocation: ca, settings,
      permissions: new StaticPermissions({ [TOKENS.admin]: 'ADMINISTRATOR', [TOKENS.user]: 'USER', [TOKENS.readonly]: 'READ_ONLY_USER', [TOKENS.service]: 'SERVICE_ACCOUNT' }),
      gateway: { host: '127.0.0.1', port: gatewayPort, tls: { caPem: ca.rootPem, certPem: server.certPem, keyPem: server.keyPem } },
      api: { host: '127.0.0.1', port: 0 },
      serverCertificate: { ca, names: ['localhost', '127.0.0.1'], tlsDir: join(tmp.dir, 'tls') },
      version: '0.1.0-test', sweepEveryMs: 3_600_000, reconnectSpreadMs: opts.reconnectSpreadMs ?? 1000, renewBeforeMs: 0, shutdownGraceMs: 100,
      apiExtras: opts.apiExtras,
      configurationSpreadMs: opts.configurationSpreadMs ?? 200,
    });
  const h: Harness = {
    ca, settings, clock, dataDir: tmp.dir,
    broker: await start(),
    gatewayAddress: () => `127.0.0.1:${h.broker.gatewayPort}`,
    api(token: string = TOKENS.admin) {
      const addr = `127.0.0.1:${h.broker.apiPort}`;
      const c = credentials.createInsecure();
      const metadata = new Metadata();
      if (token) metadata.set('authorization', `Bearer ${token}`);
      const set: ApiClients = {
        endpoints: new ms.EndpointServiceClient(addr, c),
        sessions: new ms.SessionServiceClient(addr, c),
        events: new ms.EventServiceClient(addr, c),
        admin: new ms.AdminServiceClient(addr, c),
        metadata,
        close() {
          set.endpoints.close();
          set.sessions.close();
          set.events.close();
          set.admin.close();
        },
      };
      clients.push(set);
      return set;
    },
    async endpoint(hostName, eopts = {}) {
      const id = await enrolTestEndpoint(h.gatewayAddress(), ca.rootPem, ca.createEnrolmentToken(), hostName);
      const ep = new TestEndpoint(h.gatewayAddress(), id, { hostName, ...eopts });
      endpoints.push(ep);
      await ep.connect();
      return ep;
    },
    async restart() {
      gatewayPort = h.broker.gatewayPort;
      await h.broker.stop();
      h.broker = await start();
    },
    async close() {
      for (const c of clients) c.close();
      for (const e of endpoints) e.close();
      await h.broker.stop();
      tmp.remove();
    },
  };
  return h;
}
