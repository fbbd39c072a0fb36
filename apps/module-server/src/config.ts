// Configuration of the module server: every key, its default and its rule, in one place.
import { listenSchema, logLevelSchema, metricsSchema } from '@dc/service-kit';
import { z } from 'zod';

export const ENV_PREFIX = 'DC_MODULE_SERVER_';

/** SPEC 1.2: endpoints connect to the module server on 17475 (fixed in what endpoints are told). */
export const GATEWAY_PORT = 17475;
/** DESIGN: the module/operator API. */
export const API_PORT = 17480;

const file = z.string().default('');

export const configSchema = z
  .object({
    dataDir: z.string().min(1, 'must not be empty').default('./data/module-server'),
    logLevel: logLevelSchema.default('info'),
    api: listenSchema(API_PORT),
    gateway: listenSchema(GATEWAY_PORT),
    metrics: metricsSchema(9480),
    /** Names in the gateway's server certificate (the FQDN endpoints use, SPEC 1.4.4), when the CA issues it. */
    serverNames: z.array(z.string().min(1)).min(1, 'must name at least one host').default(['localhost', '127.0.0.1']),
    /** The gateway's server certificate; empty: issued by the CA at start and kept in <dataDir>/tls. */
    tls: z.object({ certFile: file, keyFile: file }).strict().prefault({}),
    /** The certificate authority (dc.ca.v1) and this service's credentials for it. */
    ca: z
      .object({
        address: z.string().min(1).default('127.0.0.1:17482'),
        serverName: z.string().default('localhost'),
        caFile: z.string().default('./data/cert-authority/trust-bundle.pem'),
        certFile: z.string().default('./data/cert-authority/credentials/module-server.cert.pem'),
        keyFile: z.string().default('./data/cert-authority/credentials/module-server.key.pem'),
        revocationRefreshSeconds: z.number().int().min(1).max(3600).default(30),
      })
      .strict()
      .prefault({}),
    /** The settings service (dc.settings.v1); empty address: fixed defaults and devTokens (development only). */
    settings: z
      .object({
        address: z.string().default(''),
        serverName: z.string().default(''),
        caFile: file,
        /** The service account's token (SPEC 1.4.3), in a file (mode 0600). */
        tokenFile: file,
      })
      .strict()
      .prefault({}),
    /** Development only, without settings: bearer tokens and their SPEC 1.3 role. */
    devTokens: z.record(z.string().min(16, 'must be at least 16 characters'), z.enum(['ADMINISTRATOR', 'READ_ONLY_USER', 'SERVICE_ACCOUNT', 'USER'])).default({}),
    /** Endpoint certificates expiring sooner are renewed over the control channel (SPEC 1.4.5). */
    renewBeforeDays: z.number().int().min(0).max(365).default(30),
    /** On shutdown, endpoints are told to reconnect spread over this window (issue #6: reconnect storm). */
    reconnectSpreadSeconds: z.number().int().min(0).max(600).default(30),
    /** ... widened so that no more than this many endpoints reconnect per second (10,000 endpoints: 40 s). */
    reconnectRatePerSecond: z.number().int().min(1).max(100_000).default(250),
    /** A new content build reaches the connected endpoints behind it spread over this window (Configure Extension). */
    configurationSpreadSeconds: z.number().min(0).max(3600).default(10),
    sweepSeconds: z.number().min(0.1).max(60).default(5),
  })
  .strict();

export type ModuleServerConfig = z.infer<typeof configSchema>;
