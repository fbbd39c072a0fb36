// settings composition root: config, logger, the settings domain over settings.db, the gRPC server, signals.
import { resolve } from 'node:path';
import { InvalidArgumentError } from 'commander';
import { DESCRIPTOR_SET_BASE64 } from '@dc/proto';
import {
  ConfigError,
  createLogger,
  createMetricsRegistry,
  loadConfig,
  type LogLevel,
  runService,
  serviceProgram,
  startGrpcServer,
  startMetricsServer,
} from '@dc/service-kit';
import { systemClock } from './clock';
import { configSchema, ENV_PREFIX, type SettingsConfig } from './config';
import { systemResolver } from './connection-settings/fqdn';
import { CaTrustSource, unconfiguredTrustSource } from './content-build/ca-trust-source';
import { settingsGrpcServices } from './grpc';
import { LOG_LEVEL_KIND } from './log-levels/log-levels';
import { serverTls } from './server-tls';
import { openSettings } from './settings';
import { ADMIN_TOKEN_FILE } from './setup/first-start';

const program = serviceProgram({
  name: 'settings',
  description: 'Direct Connect settings: configuration store, RBAC, zone proxies, content build (gRPC dc.settings.v1)',
  envPrefix: ENV_PREFIX,
})
  .option('--data-dir <dir>', 'data directory (settings.db, secret.key, admin.token)')
  .option('--setup-mode <mode>', 'set-up mode at first start: default or custom (SPEC 1.4.1)')
  .option('--port <port>', 'gRPC port (0: any free port)', (v) => {
    if (!/^\d{1,5}$/.test(v)) throw new InvalidArgumentError('must be a whole number from 0 to 65535');
    return Number(v);
  });
program.parse();
const flags = program.opts<{ config?: string; logLevel?: string; dataDir?: string; setupMode?: string; port?: number }>();

let config: SettingsConfig;
try {
  config = loadConfig({
    schema: configSchema,
    file: flags.config,
    envPrefix: ENV_PREFIX,
    overrides: { logLevel: flags.logLevel, dataDir: flags.dataDir, 'setup.mode': flags.setupMode, 'grpc.port': flags.port },
  });
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  process.stderr.write(`settings: ${err.message}\n`);
  process.exit(2);
}
const root = createLogger({ name: 'settings', level: config.logLevel });
const { log } = root;

void runService({
  name: 'settings',
  log,
  start: async () => {
    const dataDir = resolve(config.dataDir);
    if (config.ca.address && !config.ca.trustBundleFile) {
      throw new ConfigError('config key "ca.trustBundleFile": required when ca.address is set (the CA writes trust-bundle.pem)');
    }
    const trust = config.ca.address ? new CaTrustSource(config.ca) : unconfiguredTrustSource;
    const settings = openSettings({
      dataDir,
      clock: systemClock,
      log,
      trust,
      resolver: systemResolver,
      enrolmentTokenTtlSeconds: config.enrolmentTokenTtlSeconds,
    });
    const setup = settings.setup(config.setup.mode, config.setup.installingIdentity);
    if (setup.firstStart) {
      log.info({ mode: setup.record.mode, adminTokenFile: resolve(dataDir, ADMIN_TOKEN_FILE) }, 'first start: set-up done, bootstrap administrator token written');
    }
    settings.contentBuilds.recoverInterrupted();

    // SPEC 1.7.2: this service's own level follows its setting while running.
    const applyOwnLevel = () => root.setLevel(settings.logLevels.get('settings') as LogLevel);
    applyOwnLevel();
    const stopFollowing = settings.store.onChange((c) => {
      if (c.kind === LOG_LEVEL_KIND && c.key === 'settings') {
        applyOwnLevel();
        log.info({ newLevel: root.level() }, 'log level changed');
      }
    });

    const credentials = await serverTls(config, dataDir, trust instanceof CaTrustSource ? trust : undefined, log);
    const api = settingsGrpcServices(settings, log.child({ component: 'grpc' }));
    const grpc = await startGrpcServer({
      name: 'api',
      host: config.grpc.host,
      port: config.grpc.port,
      credentials,
      services: api.services,
      descriptorSetBase64: DESCRIPTOR_SET_BASE64,
      log,
    });
    const registry = createMetricsRegistry('settings');
    const metrics = await startMetricsServer({ registry, ...config.metrics, log });
    return {
      ports: { grpc: grpc.port, metrics: metrics.port },
      stop: async () => {
        stopFollowing();
        api.endStreams();
        await grpc.shutdown();
        await metrics.close();
        if (trust instanceof CaTrustSource) trust.close();
        await settings.close();
      },
    };
  },
});
