// Composition root of the zone proxy: `install` (the provision payload) and the service itself
// (provisioning :17488, endpoint inbound :17486, module server inbound :17487), signals.
import { hostname } from 'node:os';
import {
  createLogger,
  createMetricsRegistry,
  loadConfig,
  runService,
  serviceProgram,
  startMetricsServer,
  VERSION,
  type ServiceCliOptions,
} from '@dc/service-kit';
import { configSchema, ENV_PREFIX } from './config';
import { formatProvisionPayload, installProvisionPayload, payloadPaths } from './provision-payload/provision-payload';
import { removeProvisionedState } from './provisioning/provisioned-state';
import { ZoneProxy } from './zone-proxy';

const program = serviceProgram({
  name: 'zone-proxy',
  description: 'Direct Connect zone proxy: endpoints in on :17486, the module server in on :17487, provisioning on :17488.',
  envPrefix: ENV_PREFIX,
});

program
  .command('install')
  .description('generate a new provision payload (settings/PROVISION.txt under the install directory) and print it once; invalidates the previous one')
  .option('--install-dir <dir>', 'the zone proxy install directory (default: config key installDir)')
  .option('--name <name>', 'common name of the payload certificate', hostname())
  .option('--json', 'print {path, fingerprintSha256, payload} as JSON')
  .action((opts: { installDir?: string; name: string; json?: boolean }) => {
    const flags = program.opts<ServiceCliOptions>();
    const config = loadConfig({ schema: configSchema, file: flags.config, envPrefix: ENV_PREFIX, overrides: { installDir: opts.installDir } });
    // The old provisioning was made with the old secret: it goes first (SPEC 1.4.6 re-run).
    removeProvisionedState(config.installDir);
    const payload = installProvisionPayload(config.installDir, opts.name);
    const path = payloadPaths(config.installDir).payload;
    const text = formatProvisionPayload(payload);
    if (opts.json) process.stdout.write(`${JSON.stringify({ path, fingerprintSha256: payload.fingerprintSha256, payload: text })}\n`);
    else process.stdout.write(`Provision payload written to ${path} (mode 0600). Paste it into the zone proxy record in Direct Connect settings; restart the zone proxy service.\n\n${text}`);
  });

program.action(() => {
  const flags = program.opts<ServiceCliOptions>();
  const root = createLogger({ name: 'zone-proxy', level: flags.logLevel ?? 'info' });
  void runService({
    name: 'zone-proxy',
    log: root.log,
    start: async () => {
      const config = loadConfig({ schema: configSchema, file: flags.config, envPrefix: ENV_PREFIX, overrides: { logLevel: flags.logLevel } });
      root.setLevel(config.logLevel);
      const registry = createMetricsRegistry('zone-proxy');
      const proxy = new ZoneProxy({
        installDir: config.installDir,
        provisioning: config.provisioning,
        unprovisionedEndpointInbound: config.endpointInbound,
        unprovisionedModuleServerInbound: config.moduleServerInbound,
        version: VERSION,
        log: root.log,
        activityIntervalMs: config.activityIntervalMs,
      });
      await proxy.start();
      const metrics = await startMetricsServer({ registry, ...config.metrics, log: root.log });
      return {
        ports: { ...proxy.ports, metrics: metrics.port },
        async stop() {
          await proxy.stop();
          await metrics.close();
        },
      };
    },
  });
});

program.parse();
