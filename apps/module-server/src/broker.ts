// The broker assembled: broker.db, registry, presence, sessions, the gateway and the module API
// servers. main.ts builds it from config; tests build it the same way.
import { join } from 'node:path';
import { type GrpcServerHandle, startGrpcServer, type TlsPem, LiveServerCredentials } from '@dc/service-kit';
import { DESCRIPTOR_SET_BASE64 } from '@dc/proto';
import type { ServerCredentials } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { type Clock, systemClock } from './clock';
import { gateway } from './contracts';
import type { CertificateIssuer, RevocationList } from './enrolment/certificate-issuer';
import { Enrolment } from './enrolment/enrolment';
import { EventLog } from './events/event-log';
import { ControlChannelHub } from './gateway/control-channels';
import { type GatewayCertificateAuthority, ServerCertificates } from './certificates/server-certificate';
import { GATEWAY_SERVER_OPTIONS, gatewayService } from './gateway/gateway-service';
import { Presence } from './heartbeats/presence';
import { BrokerMetrics } from './metrics/broker-metrics';
import { type BrokerDb, openBrokerDb } from './registry/broker-db';
import { EndpointRegistry } from './registry/endpoint-registry';
import { SessionBroker } from './sessions/session-broker';
import { SessionStore } from './sessions/session-store';
import type { SettingsSource } from './settings-link/settings-source';
import { type ApiDeps, apiServices } from './api/api-services';
import type { RelayedGateway } from './zone-links/relayed-peer';
import type { PermissionChecker } from './api/permission-checker';
import { Uninstaller } from './uninstall/uninstaller';
import { ConfigurationDeployer } from './configuration/configuration-deployer';

export interface BrokerOptions {
  readonly dataDir: string;
  readonly log: Logger;
  readonly clock?: Clock;
  readonly random?: () => number;
  readonly issuer: CertificateIssuer;
  readonly revocation: RevocationList;
  readonly settings: SettingsSource;
  readonly permissions: PermissionChecker;
  readonly gateway: { readonly host: string; readonly port: number; readonly tls: TlsPem };
  readonly api: { readonly host: string; readonly port: number; readonly credentials?: ServerCredentials };
  readonly metricsRegistry?: Registry;
  readonly version: string;
  /** Certificates expiring sooner than this are renewed over the control channel. */
  readonly renewBeforeMs?: number;
  /** How often presence and sessions are swept. */
  readonly sweepEveryMs?: number;
  /** On shutdown, endpoints are told to reconnect spread over at least this window. Default 30 s. */
  readonly reconnectSpreadMs?: number;
  /** ... and over one long enough that no more than this many reconnect per second. Default 250. */
  readonly reconnectRatePerSecond?: number;
  /** How long shutdown lets running calls finish before cancelling them. */
  readonly shutdownGraceMs?: number;
  /** SPEC 1.4.5: the CA to renew the gateway certificate from, the names it carries, where it is kept. */
  readonly serverCertificate?: { readonly ca?: GatewayCertificateAuthority; readonly names: readonly string[]; readonly tlsDir?: string; readonly linkClientCertPem?: string };
  /** Extra API dependencies (log level, support package). */
  readonly apiExtras?: Partial<ApiDeps>;
  /** A new content build reaches the connected endpoints spread over this window (Configure Extension). */
  readonly configurationSpreadMs?: number;
}

export interface Broker {
  readonly gatewayPort: number;
  readonly apiPort: number;
  readonly db: BrokerDb;
  readonly registry: EndpointRegistry;
  readonly events: EventLog;
  readonly presence: Presence;
  readonly hub: ControlChannelHub;
  readonly sessions: SessionBroker;
  readonly sessionStore: SessionStore;
  readonly metrics?: BrokerMetrics;
  /** The gateway's handlers, for calls zone proxies relay (apps/module-server/src/zone-links). */
  readonly gatewayHandlers: RelayedGateway;
  /** The gateway certificate in use and its renewal. */
  readonly certificates: ServerCertificates;
  /** SPEC 1.7.4 uninstall. */
  readonly uninstall: Uninstaller;
  /** SPEC 1.4.4 Configure Extension: the newest content build to endpoints behind it. */
  readonly configuration: ConfigurationDeployer;
  stop(): Promise<void>;
}

export async function startBroker(opts: BrokerOptions): Promise<Broker> {
  const clock = opts.clock ?? systemClock;
  const log = opts.log;
  const db = openBrokerDb(join(opts.dataDir, 'broker.db'));
  const registry = new EndpointRegistry(db, { onFlushError: (err) => log.error({ err }, 'broker.db: endpoint registry write failed; the changes stay in memory and are retried') });
  const events = new EventLog({ db, clock, log });
  const presence = new Presence({ registry, events, clock, log, policy: () => opts.settings.heartbeatPolicy() });
  const hub = new ControlChannelHub({ clock, random: opts.random });
  const sessionStore = new SessionStore({ db, clock, log });
  const sessions = new SessionBroker({ store: sessionStore, registry, hub, events, settings: opts.settings, clock, log });
  const enrolment = new Enrolment({ issuer: opts.issuer, registry, events, clock, log });
  const uninstall = new Uninstaller({ db, registry, events, hub, sessions, presence, clock, log });
  const configuration = new ConfigurationDeployer({ registry, hub, events, settings: opts.settings, clock, log, spreadMs: opts.configurationSpreadMs, uninstalling: () => uninstall.running });
  const metrics = opts.metricsRegistry ? new BrokerMetrics(opts.metricsRegistry, { registry, hub, clock }) : undefined;

  // One gateway implementation serves direct endpoints on :17475 and relayed ones from zone proxies.
  const gatewayBinding = gatewayService({
    registry, presence, events, enrolment, revocation: opts.revocation, hub, sessions, settings: opts.settings, clock, log, metrics,
    brokerVersion: opts.version, renewBeforeMs: opts.renewBeforeMs ?? 7 * 86_400_000, uninstall, configuration,
  });
  const tls = opts.gateway.tls;
  if (!tls.certPem || !tls.keyPem) throw new Error('the gateway needs a server certificate and key');
  const gatewayTls = new LiveServerCredentials(tls.caPem, tls.certPem, tls.keyPem);
  const certificates = new ServerCertificates({
    tls: gatewayTls, trustBundlePem: tls.caPem, ca: opts.serverCertificate?.ca, names: opts.serverCertificate?.names ?? [], tlsDir: opts.serverCertificate?.tlsDir,
    linkClientCertPem: opts.serverCertificate?.linkClientCertPem, log,
  });
  let gatewayServer: GrpcServerHandle | undefined;
  let apiServer: GrpcServerHandle | undefined;
  try {
    gatewayServer = await startGrpcServer({
      name: 'gateway',
      host: opts.gateway.host,
      port: opts.gateway.port,
      credentials: gatewayTls.credentials,
      services: [gatewayBinding],
      descriptorSetBase64: DESCRIPTOR_SET_BASE64,
      log,
      // Thousands of endpoints each hold one connection; keep them alive without pinging too often.
      options: GATEWAY_SERVER_OPTIONS,
    });
    apiServer = await startGrpcServer({
      name: 'api',
      host: opts.api.host,
      port: opts.api.port,
      credentials: opts.api.credentials,
      services: apiServices({
        registry, events, sessions, sessionStore, hub, presence, settings: opts.settings, permissions: opts.permissions, revocation: opts.revocation, clock, log, metrics,
        version: opts.version, dataDir: opts.dataDir, certificates, uninstall, ...opts.apiExtras,
      }),
      descriptorSetBase64: DESCRIPTOR_SET_BASE64,
      log,
    });
  } catch (err) {
    configuration.close();
    await gatewayServer?.shutdown(0);
    db.close();
    throw err;
  }

  const sweepEvery = opts.sweepEveryMs ?? 5000;
  const timer = setInterval(() => {
    try {
      presence.sweep();
      sessions.sweep();
      uninstall.tick();
    } catch (err) {
      log.error({ err }, 'sweep failed');
    }
  }, sweepEvery);
  timer.unref();

  return {
    gatewayPort: gatewayServer.port,
    apiPort: apiServer.port,
    db, registry, events, presence, hub, sessions, sessionStore, metrics, uninstall, configuration,
    gatewayHandlers: gatewayBinding.implementation as unknown as RelayedGateway,
    certificates,
    async stop() {
      clearInterval(timer);
      configuration.close();
      // Tell endpoints to come back, spread over a window, before the listeners go (issue #6 §6).
      const spread = { spreadMs: opts.reconnectSpreadMs ?? 30_000, ratePerSecond: opts.reconnectRatePerSecond ?? 250 };
      const { told, windowMs } = hub.goawayAll(gateway.GoawayReason.GOAWAY_REASON_BROKER_SHUTDOWN, spread, 'the module server is restarting');
      log.info({ endpoints: told, windowMs }, 'told endpoints to reconnect, spread over the window');
      sessions.closeAll('the module server is shutting down');
      await Promise.all([gatewayServer!.shutdown(opts.shutdownGraceMs ?? 2000), apiServer!.shutdown(opts.shutdownGraceMs ?? 2000)]);
      registry.flush();
      db.close();
    },
  };
}
