// Composition root of the zone proxy: config, logger, its three listeners, signals.
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
  name: 'zone-proxy',
  description:
    'Direct Connect zone proxy: endpoints in on :17486, the module server in on :17487, provisioning on :17488.',
  envPrefix: ENV_PREFIX,
}).parse();
const flags = program.opts<ServiceCliOptions>();

const root = createLogger({ name: 'zone-proxy', level: flags.logLevel ?? 'info' });
void runService({
  name: 'zone-proxy',
  log: root.log,
  start: async () => {
    const config = loadConfig({ schema: configSchema, file: flags.config, envPrefix: ENV_PREFIX, overrides: { logLevel: flags.logLevel } });
    root.setLevel(config.logLevel);
    const registry = createMetricsRegistry('zone-proxy');
    const listen = (name: string, at: { host: string; port: number }) =>
      startGrpcServer({ name, ...at, services: [], descriptorSetBase64: DESCRIPTOR_SET_BASE64, log: root.log });
    const endpointInbound = await listen('endpoint-inbound', config.endpointInbound);
    const moduleServerInbound = await listen('module-server-inbound', config.moduleServerInbound);
    const provisioning = await listen('provisioning', config.provisioning);
    const metrics = await startMetricsServer({ registry, ...config.metrics, log: root.log });
    return {
      ports: {
        endpointInbound: endpointInbound.port,
        moduleServerInbound: moduleServerInbound.port,
        provisioning: provisioning.port,
        metrics: metrics.port,
      },
      async stop() {
        await Promise.all([endpointInbound.shutdown(), moduleServerInbound.shutdown(), provisioning.shutdown()]);
        await metrics.close();
      },
    };
  },
});
