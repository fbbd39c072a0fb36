// Table-driven tests of SOCKADDR decoding for every supported family and byte order.
import { describe, expect, it } from 'vitest';
import { decodeSockaddr, formatIpv6 } from './sockaddr';

describe('decodeSockaddr', () => {
  it.each([
    ['AF_INET', '02002BCB7F0000010000000000000000', false, { family: 'inet', address: '127.0.0.1', port: 11211 }],
    ['AF_INET6 loopback', '0A002BCB000000000000000000000000000000000000000100000000', false, { family: 'inet6', address: '::1', port: 11211 }],
    ['AF_INET6 v4-mapped', '0A0000500000000000000000000000000000FFFF0A00000100000000', false, { family: 'inet6', address: '::ffff:10.0.0.1', port: 80 }],
    ['AF_INET6 cut short: family only', '0A000050000000000000000000000000FFFF0A000001', false, { family: 'inet6' }],
    ['AF_UNIX path', '01002F72756E2F6E7363642F736F636B657400', false, { family: 'unix', path: '/run/nscd/socket' }],
    ['AF_UNIX abstract', '0100002F6F72672F6B65726E656C0000', false, { family: 'unix', path: '@/org/kernel' }],
    ['AF_NETLINK', '100000000000000000000000', false, { family: 'netlink', netlinkPid: 0 }],
    ['AF_NETLINK pid', '10000000D2040000FFFFFFFF', false, { family: 'netlink', netlinkPid: 1234 }],
    ['unknown family', '00000000000000000000000000000000', false, { family: 'unknown-family(0)' }],
    ['big-endian AF_INET (ppc64)', '0002D9030000000000000000', true, { family: 'inet', address: '0.0.0.0', port: 55555 }],
    ['not hex', 'zz', false, { family: 'unknown' }],
  ])('%s', (_name, raw, bigEndian, expected) => {
    expect(decodeSockaddr(raw, bigEndian)).toMatchObject({ ...expected, raw });
  });
});

describe('formatIpv6', () => {
  it.each([
    ['20010db8000000000000000000000001', '2001:db8::1'],
    ['00000000000000000000ffffc0a80001', '::ffff:192.168.0.1'],
    ['fe800000000000000000000000000000', 'fe80::'],
    ['00010002000300040005000600070008', '1:2:3:4:5:6:7:8'],
    ['20010000000100000000000000000001', '2001:0:1::1'],
  ])('%s → %s', (hex, text) => {
    expect(formatIpv6(Buffer.from(hex, 'hex'))).toBe(text);
  });
});
