// Composition root of the module server: config, logger, the API and gateway servers, signals.
import { DESCRIPTOR_SET_BASE64 } from '@dc/proto';
import {
  createLogger,
  createMetricsRegistry,
  loadConfig,
  runService,
  serviceProgram,
  startGrpcServer,
  startMetricsServer,
  type ServiceCliOptions,
} from '@dc/service-kit';
import { configSchema, ENV_PREFIX } from './config';

const program = serviceProgram({
  name: 'module-server',
  description: 'Direct Connect module server: the endpoint gateway (:17475) and the module/operator API (:17480).',
  envPrefix: ENV_PREFIX,
}).parse();
const flags = program.opts<ServiceCliOptions>();

const root = createLogger({ name: 'module-server', level: flags.logLevel ?? 'info' });
void runService({
  name: 'module-server',
  log: root.log,
  start: async () => {
    const config = loadConfig({ schema: configSchema, file: flags.config, envPrefix: ENV_PREFIX, overrides: { logLevel: flags.logLevel } });
    root.setLevel(config.logLevel);
    const registry = createMetricsRegistry('module-server');
    const api = await startGrpcServer({ name: 'api', ...config.api, services: [], descriptorSetBase64: DESCRIPTOR_SET_BASE64, log: root.log });
    const gateway = await startGrpcServer({ name: 'gateway', ...config.gateway, services: [], descriptorSetBase64: DESCRIPTOR_SET_BASE64, log: root.log });
    const metrics = await startMetricsServer({ registry, ...config.metrics, log: root.log });
    return {
      ports: { api: api.port, gateway: gateway.port, metrics: metrics.port },
      async stop() {
        await Promise.all([api.shutdown(), gateway.shutdown()]);
        await metrics.close();
      },
    };
  },
});
