import { describe, expect, it } from 'vitest';
import { parseSerial } from './names';
import { randomSerialHex } from './x509';

describe('parseSerial', () => {
  it('finds one serial from every form other tools print it in', () => {
    for (const form of ['0b56c990c57d4e879b8cfb097636466b', 'b56c990c57d4e879b8cfb097636466b', '0B:56:C9:90:C5:7D:4E:87:9B:8C:FB:09:76:36:46:6B', '000b56c990c57d4e879b8cfb097636466b']) {
      expect(parseSerial('serial', form)).toBe('0b56c990c57d4e879b8cfb097636466b');
    }
  });

  it('gives back every serial the CA issues unchanged', () => {
    for (let i = 0; i < 200; i++) {
      const serial = randomSerialHex();
      expect(parseSerial('serial', serial)).toBe(serial);
    }
  });

  it('refuses what is not hex or longer than 20 bytes, naming the field', () => {
    expect(() => parseSerial('serial', 'xyz')).toThrow(/^serial "xyz": must be a certificate serial number in hex/);
    expect(() => parseSerial('serial', 'a'.repeat(41))).toThrow(/must be a certificate serial number/);
  });
});
