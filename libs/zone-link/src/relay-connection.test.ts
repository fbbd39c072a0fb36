import { describe, expect, it } from 'vitest';
import { decodeRelayPreamble, encodeRelayPreamble, RELAY_PREAMBLE_BYTES } from './relay-connection';

describe('relay connection preamble', () => {
  it('is the connection id as 8 bytes, unsigned big-endian', () => {
    expect(encodeRelayPreamble(258).toString('hex')).toBe('0000000000000102');
    expect(decodeRelayPreamble(Buffer.from('0000000000000102', 'hex'))).toBe(258);
    expect(decodeRelayPreamble(encodeRelayPreamble(Number.MAX_SAFE_INTEGER))).toBe(Number.MAX_SAFE_INTEGER);
    expect(RELAY_PREAMBLE_BYTES).toBe(8);
  });

  it('refuses ids that are not positive safe integers, and short or out-of-range preambles', () => {
    expect(() => encodeRelayPreamble(0)).toThrow(/positive safe integer \(got 0\)/);
    expect(() => encodeRelayPreamble(1.5)).toThrow(/got 1.5/);
    expect(decodeRelayPreamble(Buffer.alloc(7, 1))).toBeUndefined();
    expect(decodeRelayPreamble(Buffer.alloc(8))).toBeUndefined();
    expect(decodeRelayPreamble(Buffer.alloc(8, 0xff))).toBeUndefined();
  });
});
