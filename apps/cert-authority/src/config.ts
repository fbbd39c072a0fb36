// The cert-authority's configuration: defaults in one place, validated once at start.
import { listenSchema, logLevelSchema, metricsSchema } from '@dc/service-kit';
import { z } from 'zod';

export const ENV_PREFIX = 'DC_CA_';

const days = (def: number, max: number) => z.number().int('must be a whole number of days').min(1, 'must be at least 1 day').max(max, `must be at most ${max} days`).default(def);

export const configSchema = z
  .object({
    /** ca.db, keys/, tls/, credentials/ and trust-bundle.pem live here. */
    dataDir: z.string().min(1, 'must not be empty').default('./data/cert-authority'),
    logLevel: logLevelSchema.default('info'),
    grpc: listenSchema(17482),
    metrics: metricsSchema(9482),
    tls: z
      .object({
        /** Names (DNS or IP) in the CA's own server certificate; clients dial one of these. */
        serverNames: z.array(z.string().min(1)).min(1, 'must name at least one host').default(['localhost', '127.0.0.1']),
      })
      .strict()
      .prefault({}),
    /** Services that may call the CA with their service certificate; each gets bootstrap credentials. */
    callers: z.array(z.string().regex(/^[a-z][a-z0-9-]{0,62}$/, 'must be service names: lower-case letters, digits, hyphens')).default(['settings', 'module-server']),
    /** Optional: settings' address, to accept bearer tokens (RbacService.CheckPermission). */
    settings: z
      .object({
        address: z.string().default(''),
        /** Name in settings' server certificate, when it differs from the dialled host. */
        serverName: z.string().default(''),
        /** Trust for settings' TLS; empty: our own trust bundle. */
        caFile: z.string().default(''),
      })
      .strict()
      .prefault({}),
    validity: z
      .object({
        rootDays: days(3650, 36500),
        defaultDays: days(397, 825), // dc.ca.v1: 397 days, at most 825
        endpointDays: days(90, 397), // dc.ca.v1: 90 days, at most 397
        backdateSeconds: z.number().int().min(0).max(86_400).default(300),
      })
      .strict()
      .prefault({}),
    /** How long each CRL is valid; consumers refetch the revocation list well before. */
    crlValidityDays: days(7, 365),
  })
  .strict();

export type CaConfig = z.infer<typeof configSchema>;
