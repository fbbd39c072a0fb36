// The settings service's configuration: defaults in one place, validated once at start.
import { userInfo } from 'node:os';
import { listenSchema, logLevelSchema, metricsSchema } from '@dc/service-kit';
import { z } from 'zod';

export const ENV_PREFIX = 'DC_SETTINGS_';

function installingIdentity(): string {
  try {
    return userInfo().username || 'dc-service';
  } catch {
    return 'dc-service';
  }
}

export const configSchema = z
  .object({
    /** settings.db, secret.key, admin.token and service-account.token live here. */
    dataDir: z.string().min(1, 'must not be empty').default('./data/settings'),
    logLevel: logLevelSchema.default('info'),
    grpc: listenSchema(17481),
    metrics: metricsSchema(9481),
    /** Server TLS; both empty: plaintext (loopback development only). */
    tls: z
      .object({
        certFile: z.string().default(''),
        keyFile: z.string().default(''),
        /** With caFile set, clients must present a certificate from it (mutual TLS). */
        caFile: z.string().default(''),
        /** Without cert/key files: host names / IPs for a SERVER certificate the CA issues at start. */
        serverNames: z.array(z.string().min(1)).default([]),
      })
      .strict()
      .prefault({}),
    /** First-start set-up (SPEC 1.4.1); ignored once set-up has run. */
    setup: z
      .object({
        mode: z.enum(['default', 'custom'], { message: 'must be default or custom' }).default('default'),
        /** The installing account, made the service account in default mode. */
        installingIdentity: z.string().min(1).default(installingIdentity()),
      })
      .strict()
      .prefault({}),
    /** The certificate authority the content build gets the trust bundle and enrolment tokens from. */
    ca: z
      .object({
        address: z.string().default(''),
        trustBundleFile: z.string().default(''),
        certFile: z.string().default(''),
        keyFile: z.string().default(''),
        serverName: z.string().default(''),
        tokenFile: z.string().default(''),
        timeoutMs: z.number().int().min(100).max(120_000).default(10_000),
      })
      .strict()
      .prefault({}),
    /** Lifetime of the enrolment token in each content build's packages (dc.ca.v1: 1 min to 365 days). */
    enrolmentTokenTtlSeconds: z.number().int().min(60).max(365 * 86_400).default(30 * 86_400),
  })
  .strict();

export type SettingsConfig = z.infer<typeof configSchema>;
