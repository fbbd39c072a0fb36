// Composition root of the module server: config, logger, CA and settings links, the broker
// (gateway :17475 and API :17480), metrics, signals.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { credentials } from '@grpc/grpc-js';
import {
  clientCredentials,
  createLogger,
  createMetricsRegistry,
  loadConfig,
  type LogLevel,
  readTlsFiles,
  runService,
  serviceProgram,
  startMetricsServer,
  type ServiceCliOptions,
  VERSION,
  writeFileAtomic,
} from '@dc/service-kit';
import { StaticPermissions } from './api/permission-checker';
import { startBroker } from './broker';
import { configSchema, ENV_PREFIX, type ModuleServerConfig } from './config';
import { CaClient } from './enrolment/ca-client';
import { SettingsClient } from './settings-link/settings-client';
import { StaticSettings } from './settings-link/settings-source';
import { GrpcZoneCertificateAuthority, GrpcZoneProxySettings } from './zone-links/zone-proxy-directory';
import { ZoneLinks } from './zone-links/zone-links';

const program = serviceProgram({
  name: 'module-server',
  description: 'Direct Connect module server: the endpoint gateway (:17475) and the module/operator API (:17480).',
  envPrefix: ENV_PREFIX,
}).parse();
const flags = program.opts<ServiceCliOptions>();

const root = createLogger({ name: 'module-server', level: flags.logLevel ?? 'info' });

/** The gateway certificate: configured files, or one the CA issued (kept in <dataDir>/tls, renewed when near expiry). */
async function gatewayCertificate(config: ModuleServerConfig, ca: CaClient): Promise<{ certPem: string; keyPem: string }> {
  if (config.tls.certFile && config.tls.keyFile) {
    return { certPem: readFileSync(config.tls.certFile, 'utf8'), keyPem: readFileSync(config.tls.keyFile, 'utf8') };
  }
  const dir = join(config.dataDir, 'tls');
  const certFile = join(dir, 'gateway.cert.pem');
  const keyFile = join(dir, 'gateway.key.pem');
  if (existsSync(certFile) && existsSync(keyFile)) {
    const certPem = readFileSync(certFile, 'utf8');
    const keyPem = readFileSync(keyFile, 'utf8');
    const { X509Certificate, createPrivateKey } = await import('node:crypto');
    const x = new X509Certificate(certPem);
    // A renewal writes the key, then the certificate: a crash between leaves a pair that does not match.
    let matches = false;
    try {
      matches = x.checkPrivateKey(createPrivateKey(keyPem));
    } catch (err) {
      root.log.warn({ err: (err as Error).message }, `${keyFile} is not a readable private key; asking the CA for a new certificate`);
    }
    if (matches && Date.parse(x.validTo) - Date.now() > 7 * 86_400_000) return { certPem, keyPem };
  }
  const issued = await ca.issueServerCertificate(config.serverNames);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileAtomic(keyFile, issued.keyPem);
  writeFileAtomic(certFile, issued.certPem, { mode: 0o644 });
  root.log.info({ names: config.serverNames, notAfter: issued.notAfter?.toISOString() }, 'gateway server certificate issued by the CA');
  return { certPem: issued.certPem, keyPem: issued.keyPem };
}

void runService({
  name: 'module-server',
  log: root.log,
  start: async () => {
    const config = loadConfig({ schema: configSchema, file: flags.config, envPrefix: ENV_PREFIX, overrides: { logLevel: flags.logLevel } });
    root.setLevel(config.logLevel);
    mkdirSync(config.dataDir, { recursive: true });
    const log = root.log;
    const registry = createMetricsRegistry('module-server');

    const caTls = readTlsFiles({ caFile: config.ca.caFile, certFile: config.ca.certFile, keyFile: config.ca.keyFile });
    const ca = new CaClient({ address: config.ca.address, serverName: config.ca.serverName || undefined, tls: caTls, log, revocationRefreshMs: config.ca.revocationRefreshSeconds * 1000 });
    await ca.refreshRevocations().catch((err: unknown) => log.warn({ err: (err as Error).message }, 'cannot read the revocation list yet; retrying in the background'));
    ca.startRevocationPolling();
    const server = await gatewayCertificate(config, ca);

    let settingsClient: SettingsClient | undefined;
    const serviceToken = config.settings.tokenFile ? readFileSync(config.settings.tokenFile, 'utf8').trim() : '';
    const settingsChannelOptions = config.settings.serverName
      ? { 'grpc.ssl_target_name_override': config.settings.serverName, 'grpc.default_authority': config.settings.serverName }
      : {};
    const settingsCaPem = () => readFileSync(config.settings.caFile || config.ca.caFile);
    if (config.settings.address) {
      settingsClient = new SettingsClient({
        address: config.settings.address,
        credentials: credentials.createSsl(settingsCaPem()),
        channelOptions: settingsChannelOptions,
        serviceToken,
        log,
        onLogLevel: (level) => root.setLevel(level as LogLevel),
      });
      await settingsClient.startWatching();
    } else {
      log.warn('no settings address: using default settings and devTokens (development only)');
    }
    const settings = settingsClient ?? new StaticSettings();
    const permissions = settingsClient ?? new StaticPermissions(config.devTokens);

    const broker = await startBroker({
      dataDir: config.dataDir, log, issuer: ca, revocation: ca, settings, permissions,
      gateway: { host: config.gateway.host, port: config.gateway.port, tls: { caPem: caTls.caPem, certPem: server.certPem, keyPem: server.keyPem } },
      api: { host: config.api.host, port: config.api.port },
      // Renewal (AdminService.RenewServerCertificate) keeps the certificate in <dataDir>/tls, unless the operator configured files.
      serverCertificate: {
        ca, names: config.serverNames, tlsDir: config.tls.certFile && config.tls.keyFile ? undefined : join(config.dataDir, 'tls'), linkClientCertPem: caTls.certPem,
      },
      metricsRegistry: registry,
      version: VERSION,
      renewBeforeMs: config.renewBeforeDays * 86_400_000,
      reconnectSpreadMs: config.reconnectSpreadSeconds * 1000,
      reconnectRatePerSecond: config.reconnectRatePerSecond,
      configurationSpreadMs: config.configurationSpreadSeconds * 1000,
      sweepEveryMs: config.sweepSeconds * 1000,
      apiExtras: {
        logLevel: { get: () => root.level(), set: (level) => root.setLevel(level as LogLevel) },
        support: { config, recentLogLines: () => root.recent() },
      },
    });
    // Zone proxies (SPEC 1.4.6) are records in settings: without settings there are none to link.
    let zoneLinks: ZoneLinks | undefined;
    if (config.settings.address) {
      const caClientTls = clientCredentials(caTls, config.ca.serverName || undefined);
      zoneLinks = new ZoneLinks({
        settings: new GrpcZoneProxySettings(config.settings.address, credentials.createSsl(settingsCaPem()), () => serviceToken, settingsChannelOptions),
        ca: new GrpcZoneCertificateAuthority(config.ca.address, caClientTls.credentials, undefined, caClientTls.options),
        // The module server's CA service certificate is its identity on zone links.
        identity: () => ({ certificateChainPem: caTls.certPem!, privateKeyPem: caTls.keyPem!, trustBundlePem: caTls.caPem }),
        gateway: broker.gatewayHandlers,
        log: log.child({ component: 'zone-links' }),
        moduleServerVersion: VERSION,
      });
      zoneLinks.start();
    }
    const metrics = await startMetricsServer({ registry, ...config.metrics, log });
    return {
      ports: { api: broker.apiPort, gateway: broker.gatewayPort, metrics: metrics.port },
      async stop() {
        zoneLinks?.close();
        await broker.stop();
        settingsClient?.close();
        ca.close();
        await metrics.close();
      },
    };
  },
});
