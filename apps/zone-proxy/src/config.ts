// Configuration of the zone proxy: every key, its default and its rule, in one place.
import { listenSchema, logLevelSchema, metricsSchema } from '@dc/service-kit';
import { z } from 'zod';

export const ENV_PREFIX = 'DC_ZONE_PROXY_';

/** SPEC 1.2: the zone proxy's ports (the first two configurable per zone proxy record). */
export const ENDPOINT_INBOUND_PORT = 17486;
export const MODULE_SERVER_INBOUND_PORT = 17487;
export const PROVISIONING_PORT = 17488;

export const configSchema = z
  .object({
    /** The zone proxy's install directory; the provision payload goes to settings/PROVISION.txt under it. */
    installDir: z.string().min(1, 'must not be empty').default('./data/zone-proxy'),
    logLevel: logLevelSchema.default('info'),
    /** Before provisioning these serve health only; once provisioned the proxy binds where its settings record says (SPEC 1.4.6). */
    endpointInbound: listenSchema(ENDPOINT_INBOUND_PORT, '0.0.0.0'),
    moduleServerInbound: listenSchema(MODULE_SERVER_INBOUND_PORT, '0.0.0.0'),
    provisioning: listenSchema(PROVISIONING_PORT, '0.0.0.0'),
    metrics: metricsSchema(9486),
    /** How often activity figures go to the module server over the link (dc.zoneproxy.v1: 30 s). */
    activityIntervalMs: z.number().int().min(100, 'must be at least 100 ms').default(30_000),
  })
  .strict();

export type ZoneProxyConfig = z.infer<typeof configSchema>;
