// FQDN / host syntax check per RFC 1123 (IP addresses accepted too, SPEC 1.1.2), plus an optional resolution check.
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { InvalidArgument } from '../errors';

const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i;
const MAX_NAME_LENGTH = 253; // RFC 1035 2.3.4, without the trailing dot

export interface HostCheck {
  /** The host in canonical form: lower-case name without a trailing dot, or the IP address as given. */
  host: string;
  kind: 'dns-name' | 'ipv4' | 'ipv6';
  warnings: string[];
}

/**
 * Validates a host name (RFC 1123 syntax, label 1–63 chars, name ≤ 253 chars) or an IP address.
 * `field` names the setting in error messages, e.g. `fqdn "exa mple.com": label "exa mple" is …`.
 */
export function validateHost(field: string, value: string, opts: { requireQualified?: boolean } = {}): HostCheck {
  const raw = value.trim();
  const fail = (rule: string): never => {
    throw new InvalidArgument(field, `${rule}`, value);
  };
  if (raw === '') fail('is required (a host name, FQDN or IP address endpoints use to reach the server)');
  const ipVersion = isIP(raw.replace(/^\[(.*)\]$/, '$1'));
  if (ipVersion === 4) return { host: raw, kind: 'ipv4', warnings: [] };
  if (ipVersion === 6) return { host: raw.replace(/^\[(.*)\]$/, '$1'), kind: 'ipv6', warnings: [] };
  const name = raw.endsWith('.') ? raw.slice(0, -1) : raw;
  if (name.length > MAX_NAME_LENGTH) fail(`is ${name.length} characters long; at most ${MAX_NAME_LENGTH} are allowed`);
  const labels = name.split('.');
  for (const label of labels) {
    if (label === '') fail('has an empty label (two dots in a row, or a leading dot)');
    if (!LABEL.test(label)) {
      fail(`label "${label}" is not a valid DNS label (letters, digits, hyphens; 1–63 chars)`);
    }
  }
  const tld = labels[labels.length - 1];
  // RFC 3696 2: a top-level label is never all-numeric, so "10.0.0.256" is a bad address, not a name.
  if (/^[0-9]+$/.test(tld)) fail('is neither a valid IP address nor a host name (the last label is all digits)');
  // "localhost" is the one single-label name allowed where a qualified one is required: a
  // single-machine installation (npm start) has its endpoints on the module server's own host.
  const isLocalhost = labels.length === 1 && name.toLowerCase() === 'localhost';
  if (opts.requireQualified && labels.length === 1 && !isLocalhost) {
    fail('is a single-label name; use the fully qualified name (at least two labels) or an IP address');
  }
  const warnings = isLocalhost
    ? [`${field} "${value}" reaches only endpoints on the module server's own machine; use the fully qualified name for a fleet`]
    : labels.length === 1
      ? [`${field} "${value}" is a single-label name, not fully qualified; every endpoint must be able to resolve it`]
      : [];
  return { host: name.toLowerCase(), kind: 'dns-name', warnings };
}

export type Resolver = (host: string) => Promise<unknown>;

export const systemResolver: Resolver = (host) => lookup(host);

/**
 * Tries to resolve `host` from this server within `timeoutMs`. Failure is a warning, not an error:
 * what matters is that endpoints resolve it (SPEC 1.4.4), which the server cannot check.
 */
export async function resolutionWarning(
  field: string,
  check: HostCheck,
  resolve: Resolver,
  timeoutMs = 2000,
): Promise<string | undefined> {
  if (check.kind !== 'dns-name') return undefined;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([resolve(check.host), timeout]);
    return undefined;
  } catch (err) {
    return `${field} "${check.host}" does not resolve from the settings server (${(err as Error).message}); make sure every endpoint can resolve it`;
  } finally {
    clearTimeout(timer);
  }
}
