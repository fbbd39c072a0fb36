// cert-authority composition root: config, logger, the CA, its TLS, the gRPC server, signals.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { credentials as grpcCredentials } from '@grpc/grpc-js';
import { InvalidArgumentError } from 'commander';
import { caV1, DESCRIPTOR_SET_BASE64 } from '@dc/proto';
import {
  ConfigError,
  createLogger,
  createMetricsRegistry,
  loadConfig,
  runService,
  serviceProgram,
  startGrpcServer,
  startMetricsServer, LiveServerCredentials } from '@dc/service-kit';
import { ensureCallerCredentials, ensureServerCredential, writeTrustBundle } from './bootstrap/credentials';
import { CertificateAuthority } from './certificate-authority';
import { systemClock } from './clock';
import { type CaConfig, configSchema, ENV_PREFIX } from './config';
import { type BearerTokenChecker, CallerAuth } from './grpc/caller-auth';
import { caMetrics, createCaService } from './grpc/ca-service';
import { settingsPermissionChecker } from './grpc/settings-permission-checker';

const program = serviceProgram({
  name: 'cert-authority',
  description: 'Direct Connect certificate authority: issues, renews and revokes certificates (gRPC dc.ca.v1)',
  envPrefix: ENV_PREFIX,
})
  .option('--data-dir <dir>', 'data directory (ca.db, keys/, credentials/, trust-bundle.pem)')
  .option('--port <port>', 'gRPC port (0: any free port)', (v) => {
    if (!/^\d{1,5}$/.test(v)) throw new InvalidArgumentError('must be a whole number from 0 to 65535');
    return Number(v);
  });
program.parse();
const flags = program.opts<{ config?: string; logLevel?: string; dataDir?: string; port?: number }>();

let config: CaConfig;
try {
  config = loadConfig({
    schema: configSchema,
    file: flags.config,
    envPrefix: ENV_PREFIX,
    overrides: { logLevel: flags.logLevel, dataDir: flags.dataDir, 'grpc.port': flags.port },
  });
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  process.stderr.write(`cert-authority: ${err.message}\n`);
  process.exit(2);
}
const { log } = createLogger({ name: 'cert-authority', level: config.logLevel });

void runService({
  name: 'cert-authority',
  log,
  start: async () => {
    const dataDir = resolve(config.dataDir);
    const ca = CertificateAuthority.open({
      dataDir,
      validity: config.validity,
      crlValidityDays: config.crlValidityDays,
    });
    const root = ca.activeRoot().record;
    log.info({ dataDir, rootSerial: root.serial, rootNotAfter: root.notAfter }, 'root CA loaded');
    // Leaves never outlive the root, so a root near its end shortens every new certificate.
    if (root.notAfter.getTime() - Date.now() < config.validity.defaultDays * 86_400_000) {
      log.warn({ rootSerial: root.serial, rootNotAfter: root.notAfter }, 'root CA expires before a new certificate would: rotate the root (RotateRoot)');
    }

    const now = systemClock();
    const bundleFile = writeTrustBundle(ca, dataDir);
    const server = ensureServerCredential(ca, dataDir, config.tls.serverNames, now);
    const callers = ensureCallerCredentials(ca, dataDir, config.callers, now);
    for (const [name, files] of callers) {
      if (files.issued) log.info({ caller: name, certFile: files.certFile, keyFile: files.keyFile }, 'bootstrap credential written');
    }
    const tls = new LiveServerCredentials(ca.trustBundle().pem, server.certPem, server.keyPem);

    let bearer: (BearerTokenChecker & { close(): void }) | undefined;
    if (config.settings.address) {
      const caPem = config.settings.caFile ? readFileSync(config.settings.caFile) : Buffer.from(ca.trustBundle().pem);
      bearer = settingsPermissionChecker({
        address: config.settings.address,
        // The CA presents its own service identity (urn:dc:service:cert-authority) to settings.
        credentials: grpcCredentials.createSsl(caPem, Buffer.from(server.keyPem), Buffer.from(server.certPem)),
        channelOptions: config.settings.serverName ? { 'grpc.ssl_target_name_override': config.settings.serverName } : undefined,
      });
    }
    const auth = new CallerAuth({
      callers: config.callers,
      findCertificate: (serial) => {
        try {
          return ca.getCertificate(serial);
        } catch {
          return undefined;
        }
      },
      bearer,
      clock: systemClock,
    });
    const registry = createMetricsRegistry('cert-authority');
    const service = createCaService({
      ca,
      metrics: caMetrics(registry),
      auth,
      log: log.child({ component: 'grpc' }),
      onTrustBundleChanged: () => {
        tls.updateTrustBundle(ca.trustBundle().pem);
        writeTrustBundle(ca, dataDir);
      },
    });
    const grpc = await startGrpcServer({
      name: 'api',
      host: config.grpc.host,
      port: config.grpc.port,
      credentials: tls.credentials,
      services: [{ definition: caV1.CertificateAuthorityServiceService, implementation: service }],
      descriptorSetBase64: DESCRIPTOR_SET_BASE64,
      log,
    });
    const metrics = await startMetricsServer({ registry, ...config.metrics, log });
    log.info({ trustBundleFile: bundleFile, serverNames: config.tls.serverNames }, 'TLS ready');
    return {
      ports: { grpc: grpc.port, metrics: metrics.port },
      async stop() {
        await grpc.shutdown();
        await metrics.close();
        bearer?.close();
        ca.close();
      },
    };
  },
});
