// Address and CIDR parsing: the forms operators write and the forms the kernel reports.
import { describe, expect, it } from 'vitest';
import { CidrMatcher, parseCidr, parseIPv4, parseIPv6 } from './cidr';

describe('parseIPv4', () => {
  it.each([
    ['0.0.0.0', 0],
    ['10.1.2.3', 0x0a010203],
    ['255.255.255.255', 0xffffffff],
  ])('reads %s', (text, value) => expect(parseIPv4(text)).toBe(value));
  it.each(['', '1.2.3', '1.2.3.4.5', '256.1.1.1', '01.2.3.4', '1..2.3', '1.2.3.4 ', 'a.b.c.d', '1.2.3.'])('refuses %j', (text) =>
    expect(parseIPv4(text)).toBeUndefined(),
  );
});

describe('parseIPv6', () => {
  const read = (text: string) => {
    const out = new Uint16Array(8);
    return parseIPv6(text, out) ? [...out] : undefined;
  };
  it.each([
    ['::', [0, 0, 0, 0, 0, 0, 0, 0]],
    ['::1', [0, 0, 0, 0, 0, 0, 0, 1]],
    ['fe80::1%eth0', [0xfe80, 0, 0, 0, 0, 0, 0, 1]],
    ['2001:db8:0:0:1:0:0:1', [0x2001, 0xdb8, 0, 0, 1, 0, 0, 1]],
    ['::ffff:10.0.0.1', [0, 0, 0, 0, 0, 0xffff, 0x0a00, 0x0001]],
    ['fd00::', [0xfd00, 0, 0, 0, 0, 0, 0, 0]],
  ])('reads %s', (text, groups) => expect(read(text)).toEqual(groups));
  it.each(['1', ':', '1:2:3:4:5:6:7', '1:2:3:4:5:6:7:8:9', '1::2::3', 'g::1', '12345::', '1:2:3:4:5:6:7::8', '::1.2.3'])('refuses %j', (text) =>
    expect(read(text)).toBeUndefined(),
  );
});

describe('parseCidr and CidrMatcher', () => {
  it.each(['10.0.0.0/33', '10.0.0.0/', '10.0.0.0/-1', '10.0.0.0/8/8', '::/129', 'x/8', '10.0.0.0/1000'])('refuses %j', (text) =>
    expect(parseCidr(text)).toBeUndefined(),
  );

  it('masks host bits written into the network part', () => {
    expect(new CidrMatcher([parseCidr('10.9.9.9/8')!]).matches('10.1.1.1')).toBe(true);
  });

  it('honours prefix lengths that are not multiples of 8 or 16', () => {
    const m = new CidrMatcher([parseCidr('172.16.0.0/12')!, parseCidr('2001:db8:8000::/33')!]);
    expect(m.matches('172.31.255.255')).toBe(true);
    expect(m.matches('172.32.0.0')).toBe(false);
    expect(m.matches('2001:db8:ffff::1')).toBe(true);
    expect(m.matches('2001:db8:7fff::1')).toBe(false);
  });
});
