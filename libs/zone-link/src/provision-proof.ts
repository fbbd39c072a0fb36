// The HMAC proofs of the provision secret (dc.zoneproxy.v1 ProvisioningService): the module
// server and the zone proxy each prove they hold the secret without sending it; the CSRs are
// bound into both proofs so they cannot be swapped.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export type ProofRole = 'server' | 'client';

export interface ProofInput {
  readonly provisioningId: string;
  readonly clientNonce: Uint8Array;
  readonly serverNonce: Uint8Array;
  readonly endpointFacingCsrPem: string;
  readonly linkFacingCsrPem: string;
}

/** HMAC-SHA256 keyed with the provision secret over the exact string the .proto defines. */
export function provisionProof(secret: Uint8Array, role: ProofRole, i: ProofInput): Buffer {
  const sha = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');
  const text = [
    'dc-zone-provision-v1',
    role,
    i.provisioningId,
    Buffer.from(i.clientNonce).toString('base64'),
    Buffer.from(i.serverNonce).toString('base64'),
    sha(i.endpointFacingCsrPem),
    sha(i.linkFacingCsrPem),
  ].join('|');
  return createHmac('sha256', secret).update(text, 'utf8').digest();
}

/** Constant-time comparison of a received proof with the expected one. */
export function proofMatches(expected: Buffer, received: Uint8Array): boolean {
  if (received.length !== expected.length) return false;
  return timingSafeEqual(expected, received);
}
