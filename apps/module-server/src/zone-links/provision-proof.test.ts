import { describe, expect, it } from 'vitest';
import { provisionProof, proofMatches } from './provision-proof';

describe('provision proofs (module server side)', () => {
  it('matches the fixed test vector the zone proxy checks too', () => {
    // Computed independently with Python's hmac module; also asserted in
    // apps/zone-proxy/src/provisioning/provision-proof.test.ts, so both sides agree.
    const input = { provisioningId: 'p-1', clientNonce: Buffer.alloc(32, 1), serverNonce: Buffer.alloc(32, 2), endpointFacingCsrPem: 'csr-a', linkFacingCsrPem: 'csr-b' };
    expect(provisionProof(Buffer.alloc(32, 7), 'server', input).toString('hex')).toBe('c35d4fbdeff29f152eacbb7e6b3a160138268ed101012a1540511183dd23236a');
    const client = provisionProof(Buffer.alloc(32, 7), 'client', input);
    expect(proofMatches(client, client)).toBe(true);
    expect(proofMatches(client, provisionProof(Buffer.alloc(32, 8), 'client', input))).toBe(false);
  });
});
