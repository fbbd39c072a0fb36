import { describe, expect, it } from 'vitest';
import { provisionProof, proofMatches } from './provision-proof';

const input = {
  provisioningId: 'p-1',
  clientNonce: Buffer.alloc(32, 1),
  serverNonce: Buffer.alloc(32, 2),
  endpointFacingCsrPem: 'csr-a',
  linkFacingCsrPem: 'csr-b',
};

describe('provision proofs', () => {
  it('matches the fixed test vector', () => {
    expect(provisionProof(Buffer.alloc(32, 7), 'server', input).toString('hex')).toBe(VECTOR_SERVER);
  });

  it('differs by role, secret, nonce and each CSR', () => {
    const secret = Buffer.alloc(32, 7);
    const base = provisionProof(secret, 'server', input).toString('hex');
    expect(provisionProof(secret, 'client', input).toString('hex')).not.toBe(base);
    expect(provisionProof(Buffer.alloc(32, 8), 'server', input).toString('hex')).not.toBe(base);
    expect(provisionProof(secret, 'server', { ...input, clientNonce: Buffer.alloc(32, 3) }).toString('hex')).not.toBe(base);
    expect(provisionProof(secret, 'server', { ...input, endpointFacingCsrPem: 'csr-x' }).toString('hex')).not.toBe(base);
    expect(provisionProof(secret, 'server', { ...input, linkFacingCsrPem: 'csr-x' }).toString('hex')).not.toBe(base);
  });

  it('compares proofs of any length without throwing', () => {
    const p = provisionProof(Buffer.alloc(32, 7), 'client', input);
    expect(proofMatches(p, p)).toBe(true);
    expect(proofMatches(p, p.subarray(0, 31))).toBe(false);
    expect(proofMatches(p, Buffer.alloc(0))).toBe(false);
    const flipped = Buffer.from(p);
    flipped[5] = flipped[5]! ^ 1;
    expect(proofMatches(p, flipped)).toBe(false);
  });
});

// Computed independently with Python's hmac module from the .proto's definition.
const VECTOR_SERVER = 'c35d4fbdeff29f152eacbb7e6b3a160138268ed101012a1540511183dd23236a';
