// Validation of the names that go into certificates: host names, IP addresses, service names.
import { isIP } from 'node:net';
import { InvalidArgument } from '@dc/service-kit';

const LABEL = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

/** A host name or FQDN (SPEC 1.4.4: its format is validated) or an IP address (SPEC 1.1.2). */
export function parseHost(field: string, value: string): { dnsName?: string; ipAddress?: string } {
  if (typeof value !== 'string' || value.length === 0) throw new InvalidArgument(field, 'must not be empty', value);
  if (isIP(value)) return { ipAddress: value };
  const name = value.endsWith('.') ? value.slice(0, -1) : value;
  if (name.length > 253) throw new InvalidArgument(field, 'is longer than 253 characters, the limit for a DNS name', value);
  for (const label of name.split('.')) {
    if (!LABEL.test(label)) {
      throw new InvalidArgument(field, `label "${label}" is not a valid DNS label (letters, digits, hyphens; 1–63 chars; no hyphen at either end)`, value);
    }
  }
  if (/^[0-9.]+$/.test(name)) throw new InvalidArgument(field, 'looks like an IP address but is not a valid one', value);
  return { dnsName: name.toLowerCase() };
}

export function parseIp(field: string, value: string): string {
  if (!isIP(value)) throw new InvalidArgument(field, 'must be an IPv4 or IPv6 address', value);
  return value;
}

const SERVICE_NAME = /^[a-z][a-z0-9-]{0,62}$/;

/** Service names and zone proxy names become URIs (`dc://service/<name>`): keep them plain. */
export function parseServiceName(field: string, value: string): string {
  if (!SERVICE_NAME.test(value)) {
    throw new InvalidArgument(field, 'must be 1–63 characters: lower-case letters, digits and hyphens, starting with a letter', value);
  }
  return value;
}

const ZONE_PROXY_NAME = /^[A-Za-z0-9][A-Za-z0-9 ._-]{0,62}$/;

export function parseZoneProxyName(field: string, value: string): string {
  if (!ZONE_PROXY_NAME.test(value)) {
    throw new InvalidArgument(field, 'must be 1–63 characters: letters, digits, spaces, ".", "_", "-", starting with a letter or digit', value);
  }
  return value;
}

/**
 * Serial numbers as the CA stores and prints them: lower-case hex of whole bytes, minimally
 * encoded (randomSerialHex). Colons, upper case and dropped leading zeros are accepted — other
 * tools print "0b56…" as "b56…" — so every form of one serial finds the same certificate.
 */
export function parseSerial(field: string, value: string): string {
  const raw = typeof value === 'string' ? value.replace(/:/g, '').toLowerCase() : '';
  if (!/^[0-9a-f]{1,40}$/.test(raw)) throw new InvalidArgument(field, 'must be a certificate serial number in hex (up to 20 bytes)', value);
  const minimal = raw.replace(/^0+(?=.)/, '');
  return minimal.length % 2 === 1 ? `0${minimal}` : minimal;
}

/** Collects SANs from hosts and IPs without duplicates, in the order given. */
export function collectAltNames(hosts: ReadonlyArray<{ dnsName?: string; ipAddress?: string }>): { dnsNames: string[]; ipAddresses: string[] } {
  const dnsNames: string[] = [];
  const ipAddresses: string[] = [];
  for (const h of hosts) {
    if (h.dnsName && !dnsNames.includes(h.dnsName)) dnsNames.push(h.dnsName);
    if (h.ipAddress && !ipAddresses.includes(h.ipAddress)) ipAddresses.push(h.ipAddress);
  }
  return { dnsNames, ipAddresses };
}
