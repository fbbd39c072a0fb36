// Computer-group rules over endpoint properties: hostname glob, OS, IP/CIDR, tags (pure, no I/O).
import { BlockList, isIP } from 'node:net';
import { InvalidArgument } from '../errors';

export const OPERATING_SYSTEMS = ['WINDOWS', 'LINUX', 'MACOS'] as const; // SPEC 1.4.4
export type OperatingSystem = (typeof OPERATING_SYSTEMS)[number];

/** Properties an endpoint reports in its hello (DESIGN flow 3). */
export interface EndpointProperties {
  hostname: string;
  os: OperatingSystem | string;
  ipAddresses: string[];
  tags: string[];
}

/**
 * An endpoint matches when every non-empty criterion matches; inside one criterion any entry
 * suffices (hostname patterns OR-ed, …). At least one criterion must be set.
 */
export interface ComputerGroupRules {
  hostnamePatterns: string[];
  operatingSystems: OperatingSystem[];
  ipRanges: string[];
  tags: string[];
}

/** Validates rules; throws InvalidArgument naming the offending entry. */
export function validateRules(rules: ComputerGroupRules): ComputerGroupRules {
  const { hostnamePatterns, operatingSystems, ipRanges, tags } = rules;
  if (hostnamePatterns.length + operatingSystems.length + ipRanges.length + tags.length === 0) {
    throw new InvalidArgument('rules', 'at least one rule is required (hostname pattern, operating system, IP range or tag)');
  }
  for (const p of hostnamePatterns) {
    if (!/^[A-Za-z0-9*?.-]{1,253}$/.test(p)) {
      throw new InvalidArgument('hostnamePatterns', `a pattern uses letters, digits, hyphens, dots and the wildcards * and ? (1–253 chars)`, p);
    }
  }
  for (const os of operatingSystems) {
    if (!OPERATING_SYSTEMS.includes(os)) {
      throw new InvalidArgument('operatingSystems', `must be one of ${OPERATING_SYSTEMS.join(', ')}`, String(os));
    }
  }
  for (const range of ipRanges) parseIpRange(range);
  for (const tag of tags) {
    if (!/^[\w.:-]{1,64}$/.test(tag)) {
      throw new InvalidArgument('tags', `a tag is 1–64 letters, digits, "_", ".", ":" or "-"`, tag);
    }
  }
  return rules;
}

/** Parses "10.0.0.0/8", "2001:db8::/32" or a single address. */
export function parseIpRange(range: string): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } {
  const [address, prefixText, extra] = range.split('/');
  const version = isIP(address);
  const max = version === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? max : Number(prefixText);
  if (version === 0 || extra !== undefined || !Number.isInteger(prefix) || prefix < 0 || prefix > max) {
    throw new InvalidArgument('ipRanges', `must be an IPv4 or IPv6 address, optionally with a /prefix (e.g. 10.1.0.0/16)`, range);
  }
  return { address, prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
}

/** Compiles rules into a predicate over endpoint properties. */
export function compileRules(rules: ComputerGroupRules): (endpoint: EndpointProperties) => boolean {
  const patterns = rules.hostnamePatterns.map(globToRegExp);
  const blocks = new BlockList();
  for (const range of rules.ipRanges) {
    const { address, prefix, family } = parseIpRange(range);
    blocks.addSubnet(address, prefix, family);
  }
  const tags = new Set(rules.tags.map((t) => t.toLowerCase()));
  return (endpoint) => {
    if (patterns.length > 0 && !patterns.some((re) => re.test(endpoint.hostname))) return false;
    if (rules.operatingSystems.length > 0 && !rules.operatingSystems.includes(endpoint.os as OperatingSystem)) {
      return false;
    }
    if (rules.ipRanges.length > 0) {
      const inRange = endpoint.ipAddresses.some((ip) => {
        const v = isIP(ip);
        return v !== 0 && blocks.check(ip, v === 4 ? 'ipv4' : 'ipv6');
      });
      if (!inRange) return false;
    }
    if (tags.size > 0 && !endpoint.tags.some((t) => tags.has(t.toLowerCase()))) return false;
    return true;
  };
}

/** Host names compare case-insensitively (RFC 4343); * matches any run, ? one character. */
function globToRegExp(pattern: string): RegExp {
  const body = pattern.replace(/[.+^${}()|[\]\\-]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`, 'i');
}
