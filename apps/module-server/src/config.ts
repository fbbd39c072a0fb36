// Configuration of the module server: every key, its default and its rule, in one place.
import { listenSchema, logLevelSchema, metricsSchema } from '@dc/service-kit';
import { z } from 'zod';

export const ENV_PREFIX = 'DC_MODULE_SERVER_';

/** SPEC 1.2: endpoints connect to the module server on 17475 (fixed in what endpoints are told). */
export const GATEWAY_PORT = 17475;
/** DESIGN: the module/operator API. */
export const API_PORT = 17480;

export const configSchema = z
  .object({
    dataDir: z.string().min(1, 'must not be empty').default('./data/module-server'),
    logLevel: logLevelSchema.default('info'),
    api: listenSchema(API_PORT),
    gateway: listenSchema(GATEWAY_PORT),
    metrics: metricsSchema(9480),
  })
  .strict();

export type ModuleServerConfig = z.infer<typeof configSchema>;
