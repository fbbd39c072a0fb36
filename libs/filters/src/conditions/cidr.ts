// IPv4/IPv6 address and CIDR parsing for the `cidr` operator (IPv4-mapped IPv6 matches IPv4 blocks).

/** A parsed CIDR block. IPv4 as a 32-bit number; IPv6 as eight 16-bit groups. */
export type CidrBlock =
  | { readonly version: 4; readonly network: number; readonly mask: number }
  | { readonly version: 6; readonly groups: Uint16Array; readonly bits: number };

/** Parses `10.0.0.0/8`, `fd00::/8`, or a bare address (a /32 or /128 block); undefined if malformed. */
export function parseCidr(text: string): CidrBlock | undefined {
  const slash = text.indexOf('/');
  const addr = slash < 0 ? text : text.slice(0, slash);
  const bitsText = slash < 0 ? undefined : text.slice(slash + 1);
  if (bitsText !== undefined && !/^\d{1,3}$/.test(bitsText)) return undefined;
  const v4 = parseIPv4(addr);
  if (v4 !== undefined) {
    const bits = bitsText === undefined ? 32 : Number(bitsText);
    if (bits > 32) return undefined;
    const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
    return { version: 4, network: (v4 & mask) >>> 0, mask };
  }
  const groups = new Uint16Array(8);
  if (!parseIPv6(addr, groups)) return undefined;
  const bits = bitsText === undefined ? 128 : Number(bitsText);
  if (bits > 128) return undefined;
  for (let i = 0; i < 8; i++) groups[i] &= groupMask(bits, i);
  return { version: 6, groups, bits };
}

function groupMask(bits: number, group: number): number {
  const left = bits - group * 16;
  if (left >= 16) return 0xffff;
  if (left <= 0) return 0;
  return (0xffff << (16 - left)) & 0xffff;
}

/** Dotted-quad IPv4 to a 32-bit unsigned number, without allocating; undefined if malformed. */
export function parseIPv4(text: string): number | undefined {
  let value = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      if (digits > 0 && part === 0) return undefined; // no leading zeros ("010" is ambiguous)
      part = part * 10 + (c - 48);
      if (++digits > 3 || part > 255) return undefined;
    } else if (c === 46) {
      if (digits === 0 || ++dots > 3) return undefined;
      value = value * 256 + part;
      part = 0;
      digits = 0;
    } else return undefined;
  }
  if (dots !== 3 || digits === 0) return undefined;
  return value * 256 + part;
}

/** Parses IPv6 text (with `::`, an embedded IPv4 tail, an optional `%zone`) into `out`. */
export function parseIPv6(text: string, out: Uint16Array): boolean {
  const zone = text.indexOf('%');
  const addr = zone < 0 ? text : text.slice(0, zone);
  if (addr.length < 2 || !addr.includes(':')) return false;
  const halves = addr.split('::');
  if (halves.length > 2) return false;
  const head = halves[0] === '' ? [] : halves[0].split(':');
  const tail = halves.length === 2 ? (halves[1] === '' ? [] : halves[1].split(':')) : [];
  const groups: number[] = [];
  const parts = halves.length === 2 ? [head, tail] : [head];
  const decoded: number[][] = [];
  for (let p = 0; p < parts.length; p++) {
    const list: number[] = [];
    const items = parts[p];
    for (let i = 0; i < items.length; i++) {
      const item = items[i];
      const last = p === parts.length - 1 && i === items.length - 1;
      if (last && item.includes('.')) {
        const v4 = parseIPv4(item);
        if (v4 === undefined) return false;
        list.push(Math.floor(v4 / 65536), v4 % 65536);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(item)) return false;
        list.push(parseInt(item, 16));
      }
    }
    decoded.push(list);
  }
  if (halves.length === 1) {
    if (decoded[0].length !== 8) return false;
    groups.push(...decoded[0]);
  } else {
    const missing = 8 - decoded[0].length - decoded[1].length;
    if (missing < 1) return false;
    groups.push(...decoded[0], ...new Array<number>(missing).fill(0), ...decoded[1]);
  }
  for (let i = 0; i < 8; i++) out[i] = groups[i];
  return true;
}

/** Tests addresses against a list of blocks; keeps one scratch buffer, so it is not re-entrant. */
export class CidrMatcher {
  private readonly v4: { network: number; mask: number }[] = [];
  private readonly v6: { groups: Uint16Array; bits: number }[] = [];
  private readonly scratch = new Uint16Array(8);

  constructor(blocks: readonly CidrBlock[]) {
    for (const b of blocks) {
      if (b.version === 4) this.v4.push(b);
      else this.v6.push(b);
    }
  }

  /** True when `address` (IPv4 or IPv6 text) lies in any block; false for anything else. */
  matches(address: string): boolean {
    const v4 = parseIPv4(address);
    if (v4 !== undefined) return this.matchV4(v4);
    if (!parseIPv6(address, this.scratch)) return false;
    const g = this.scratch;
    if (this.v6.some((b) => inV6(g, b.groups, b.bits))) return true;
    // IPv4-mapped IPv6 (::ffff:a.b.c.d), as dual-stack sockets report IPv4 peers.
    if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff) {
      return this.matchV4(g[6] * 65536 + g[7]);
    }
    return false;
  }

  private matchV4(ip: number): boolean {
    for (const b of this.v4) if (((ip & b.mask) >>> 0) === b.network) return true;
    return false;
  }
}

function inV6(ip: Uint16Array, network: Uint16Array, bits: number): boolean {
  for (let i = 0; i < 8; i++) {
    const m = groupMask(bits, i);
    if (m === 0) return true;
    if ((ip[i] & m) !== network[i]) return false;
  }
  return true;
}
