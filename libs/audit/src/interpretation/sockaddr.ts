// SOCKADDR `saddr` hex → SocketAddress for AF_UNIX, AF_INET, AF_INET6 and AF_NETLINK.
import type { SocketAddress } from '../types';
import { isHexEncoded } from '../records/values';

const AF_UNIX = 1;
const AF_INET = 2;
const AF_INET6 = 10;
const AF_NETLINK = 16;

/**
 * Decodes a raw `saddr`. `bigEndian` is the writing machine's byte order (from the SYSCALL
 * `arch`): sa_family and the netlink pid are host-order fields, ports and IPs network order.
 */
export function decodeSockaddr(raw: string, bigEndian = false): SocketAddress {
  if (!isHexEncoded(raw) || raw.length < 4) return { family: 'unknown', raw };
  const b = Buffer.from(raw, 'hex');
  const family = bigEndian ? b.readUInt16BE(0) : b.readUInt16LE(0);
  switch (family) {
    case AF_INET:
      if (b.length < 8) break;
      return { family: 'inet', address: `${b[4]}.${b[5]}.${b[6]}.${b[7]}`, port: b.readUInt16BE(2), raw };
    case AF_INET6:
      if (b.length < 24) break;
      return { family: 'inet6', address: formatIpv6(b.subarray(8, 24)), port: b.readUInt16BE(2), raw };
    case AF_UNIX: {
      const body = b.subarray(2);
      if (body.length === 0) return { family: 'unix', path: '', raw };
      // Abstract socket: leading NUL, name is the rest (shown with '@' like ss/ausearch).
      if (body[0] === 0) {
        let end = body.length;
        while (end > 1 && body[end - 1] === 0) end--;
        return { family: 'unix', path: '@' + body.subarray(1, end).toString('utf8'), raw };
      }
      const nul = body.indexOf(0);
      return { family: 'unix', path: body.subarray(0, nul < 0 ? body.length : nul).toString('utf8'), raw };
    }
    case AF_NETLINK:
      if (b.length < 8) break;
      return { family: 'netlink', netlinkPid: bigEndian ? b.readUInt32BE(4) : b.readUInt32LE(4), raw };
    default:
      return { family: `unknown-family(${family})`, raw };
  }
  return { family: familyName(family), raw };
}

function familyName(family: number): string {
  switch (family) {
    case AF_INET:
      return 'inet';
    case AF_INET6:
      return 'inet6';
    case AF_UNIX:
      return 'unix';
    case AF_NETLINK:
      return 'netlink';
    default:
      return `unknown-family(${family})`;
  }
}

/** RFC 5952 text form (longest zero run compressed, IPv4-mapped shown dotted). */
export function formatIpv6(a: Uint8Array): string {
  const words: number[] = [];
  for (let i = 0; i < 16; i += 2) words.push((a[i] << 8) | a[i + 1]);
  if (words[0] === 0 && words[1] === 0 && words[2] === 0 && words[3] === 0 && words[4] === 0 && words[5] === 0xffff) {
    return `::ffff:${a[12]}.${a[13]}.${a[14]}.${a[15]}`;
  }
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = words.map((w) => w.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}
