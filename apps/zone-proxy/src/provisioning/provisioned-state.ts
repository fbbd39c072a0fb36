// What provisioning leaves on the zone server (state/provisioned.json, mode 0600): the CA-issued
// certificates and keys, the trust bundle, the revocation list and where to listen.
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '@dc/service-kit';

const listen = z.object({ host: z.string().min(1), port: z.number().int().min(1).max(65535) });
const keyPair = z.object({ certificateChainPem: z.string().min(1), privateKeyPem: z.string().min(1) });

export const provisionedStateSchema = z
  .object({
    zoneProxyName: z.string().min(1),
    provisionedAt: z.string(),
    /** The payload this state was provisioned with; a new payload (re-install) invalidates it. */
    payloadFingerprintSha256: z.string().regex(/^[0-9a-f]{64}$/),
    endpointFacing: keyPair,
    linkFacing: keyPair,
    trustBundlePem: z.string().min(1),
    revocation: z.object({ version: z.number().int().min(0), serials: z.array(z.string()) }),
    endpointInbound: listen,
    moduleServerInbound: listen,
  })
  .strict();

export type ProvisionedState = z.infer<typeof provisionedStateSchema>;

export function statePath(installDir: string): string {
  return join(installDir, 'state', 'provisioned.json');
}

export function writeProvisionedState(installDir: string, state: ProvisionedState): void {
  writeFileAtomic(statePath(installDir), JSON.stringify(provisionedStateSchema.parse(state), null, 2));
}

/** The saved state, or undefined when not provisioned (or provisioned with another payload). */
export function readProvisionedState(installDir: string, payloadFingerprintSha256: string | undefined): ProvisionedState | undefined {
  let text: string;
  try {
    text = readFileSync(statePath(installDir), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const parsed = provisionedStateSchema.safeParse(JSON.parse(text));
  if (!parsed.success) throw new Error(`${statePath(installDir)}: not a valid provisioned state (${parsed.error.issues[0]?.message}); re-run "zone-proxy install"`);
  if (parsed.data.payloadFingerprintSha256 !== payloadFingerprintSha256) return undefined;
  return parsed.data;
}

export function removeProvisionedState(installDir: string): void {
  rmSync(statePath(installDir), { force: true });
}
