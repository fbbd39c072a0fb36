// Computer-group rules over endpoint properties: hostname glob, OS, IP/CIDR, tags (pure, no I/O).
import { BlockList, isIP } from 'node:net';
import { InvalidArgument } from '../errors';

export const OPERATING_SYSTEMS = ['WINDOWS', 'LINUX', 'MACOS'] as const; // SPEC 1.4.4
export type OperatingSystem = (typeof OPERATING_SYSTEMS)[number];

/** Properties an endpoint reports in its hello (DESIGN flow 3). */
export interface EndpointProperties {
  hostname: string;
  fqdn?: string;
  os: OperatingSystem | string;
  ipAddresses: string[];
  tags: string[];
}

export type RuleKind = 'hostNamePattern' | 'os' | 'ipCidr' | 'tag';

/** One membership rule; `negate` inverts it. */
export interface ComputerGroupRule {
  kind: RuleKind;
  value: string;
  negate: boolean;
}

/** ALL: every rule must match (default); ANY: at least one. */
export type RuleMatch = 'ALL' | 'ANY';

/** Validates rules; throws InvalidArgument naming the offending rule. */
export function validateRules(rules: ComputerGroupRule[]): ComputerGroupRule[] {
  if (rules.length === 0) {
    throw new InvalidArgument('rules', 'at least one rule is required (host name pattern, OS, IP/CIDR or tag)');
  }
  rules.forEach((rule, i) => {
    const field = `rules[${i}].${rule.kind}`;
    switch (rule.kind) {
      case 'hostNamePattern':
        if (!/^[A-Za-z0-9*?.-]{1,253}$/.test(rule.value)) {
          throw new InvalidArgument(field, 'a pattern uses letters, digits, hyphens, dots and the wildcards * and ? (1–253 chars)', rule.value);
        }
        return;
      case 'os':
        if (!(OPERATING_SYSTEMS as readonly string[]).includes(rule.value)) {
          throw new InvalidArgument(field, `must be one of ${OPERATING_SYSTEMS.join(', ')}`, rule.value);
        }
        return;
      case 'ipCidr':
        parseIpRange(field, rule.value);
        return;
      case 'tag':
        if (!/^[\w.:-]{1,64}$/.test(rule.value)) {
          throw new InvalidArgument(field, 'a tag is 1–64 letters, digits, "_", ".", ":" or "-"', rule.value);
        }
        return;
      default:
        throw new InvalidArgument(`rules[${i}]`, 'must set one of host_name_pattern, os, ip_cidr, tag');
    }
  });
  return rules;
}

/** Parses "10.0.0.0/8", "2001:db8::/32" or a single address. */
export function parseIpRange(field: string, range: string): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } {
  const [address, prefixText, extra] = range.split('/');
  const version = isIP(address);
  const max = version === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? max : Number(prefixText);
  if (version === 0 || extra !== undefined || !/^\d*$/.test(prefixText ?? '') || prefix < 0 || prefix > max) {
    throw new InvalidArgument(field, 'must be an IPv4 or IPv6 address, optionally with a /prefix (e.g. 10.1.0.0/16)', range);
  }
  return { address, prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
}

/** Compiles one rule into a predicate (before negation). */
function compileRule(rule: ComputerGroupRule): (e: EndpointProperties) => boolean {
  switch (rule.kind) {
    case 'hostNamePattern': {
      const re = globToRegExp(rule.value);
      return (e) => re.test(e.hostname) || (e.fqdn !== undefined && re.test(e.fqdn));
    }
    case 'os':
      return (e) => e.os === rule.value;
    case 'ipCidr': {
      const { address, prefix, family } = parseIpRange('ipCidr', rule.value);
      const blocks = new BlockList();
      blocks.addSubnet(address, prefix, family);
      return (e) =>
        e.ipAddresses.some((ip) => {
          const v = isIP(ip);
          return v !== 0 && blocks.check(ip, v === 4 ? 'ipv4' : 'ipv6');
        });
    }
    case 'tag': {
      const tag = rule.value.toLowerCase();
      return (e) => e.tags.some((t) => t.toLowerCase() === tag);
    }
  }
}

/** Compiles rules into a predicate over endpoint properties; `describe` names the rules that matched. */
export function compileRules(match: RuleMatch, rules: ComputerGroupRule[]) {
  const compiled = rules.map((rule) => {
    const test = compileRule(rule);
    return { rule, test: (e: EndpointProperties) => test(e) !== rule.negate };
  });
  const matches = (e: EndpointProperties) =>
    match === 'ANY' ? compiled.some((c) => c.test(e)) : compiled.every((c) => c.test(e));
  const describe = (e: EndpointProperties) =>
    compiled
      .filter((c) => c.test(e))
      .map((c) => `${c.rule.negate ? 'not ' : ''}${c.rule.kind} "${c.rule.value}"`)
      .join(', ');
  return { matches, describe };
}

/** Host names compare case-insensitively (RFC 4343); * matches any run, ? one character. */
function globToRegExp(pattern: string): RegExp {
  const body = pattern.replace(/[.+^${}()|[\]\\-]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`, 'i');
}
