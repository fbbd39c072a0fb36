// What each kind of certificate is for: its purpose (EKU), default validity and identity URI.
import { DAY_MS } from '../clock';

/**
 * What a certificate is for (dc.ca.v1 CertificatePurpose; SPEC 1.1.2, 1.4.5, 1.4.6):
 * - `server`: a TLS server — the module server's gateway and API (its FQDN and IPs), settings, the CA;
 * - `client`: a TLS client identity, e.g. the module server on zone links;
 * - `endpoint`: a per-endpoint client certificate, issued only from the endpoint's CSR;
 * - `zone-proxy-endpoint`: a zone proxy's server certificate for endpoints (Endpoint Target Hostname);
 * - `zone-proxy-link`: a zone proxy's server certificate for the module server (Module Server Target Hostname);
 * - `service`: a service identity for service-to-service mutual TLS (`urn:dc:service:<name>`).
 */
export const CERTIFICATE_KINDS = ['server', 'client', 'endpoint', 'zone-proxy-endpoint', 'zone-proxy-link', 'service'] as const;
export type CertificateKind = (typeof CERTIFICATE_KINDS)[number];

/** Which extended key usages a certificate carries. */
export type Purpose = 'server' | 'client' | 'server-and-client';

export interface KindProfile {
  readonly purpose: Purpose;
  /** Organizational unit in the subject, so a certificate's kind is visible in `openssl x509 -text`. */
  readonly organizationalUnit: string;
}

export const PROFILES: Readonly<Record<CertificateKind, KindProfile>> = {
  server: { purpose: 'server', organizationalUnit: 'server' },
  client: { purpose: 'client', organizationalUnit: 'client' },
  endpoint: { purpose: 'client', organizationalUnit: 'endpoint' },
  'zone-proxy-endpoint': { purpose: 'server', organizationalUnit: 'zone proxy endpoint' },
  'zone-proxy-link': { purpose: 'server', organizationalUnit: 'zone proxy link' },
  // Services both serve gRPC and call each other.
  service: { purpose: 'server-and-client', organizationalUnit: 'service' },
};

export const ORGANIZATION = 'Direct Connect';

/** Identity URIs put in the SAN, so a peer's identity does not depend on parsing the CN. */
export const identityUri = {
  service: (name: string) => `urn:dc:service:${name}`,
  endpoint: (id: string) => `urn:dc:endpoint:${id}`,
  zoneProxy: (name: string) => `urn:dc:zone-proxy:${encodeURIComponent(name)}`,
};

/** Parses `urn:dc:service:<name>`, `urn:dc:endpoint:<id>`, `urn:dc:zone-proxy:<name>`. */
export function parseIdentityUri(uri: string): { kind: 'service' | 'endpoint' | 'zone-proxy'; name: string } | undefined {
  const m = /^urn:dc:(service|endpoint|zone-proxy):(.+)$/.exec(uri);
  return m ? { kind: m[1] as 'service' | 'endpoint' | 'zone-proxy', name: decodeURIComponent(m[2]!) } : undefined;
}

export interface ValidityConfig {
  readonly rootDays: number;
  /** Every kind but endpoint: 397 days, the browser-era ceiling for TLS server certificates. */
  readonly defaultDays: number;
  readonly endpointDays: number;
  /** notBefore is set this far in the past so peers with a slightly slow clock accept new certificates. */
  readonly backdateSeconds: number;
}

export const DEFAULT_VALIDITY: ValidityConfig = {
  rootDays: 3650,
  defaultDays: 397,
  endpointDays: 90,
  backdateSeconds: 300,
};

export function validityDaysFor(kind: CertificateKind, v: ValidityConfig): number {
  return kind === 'endpoint' ? v.endpointDays : v.defaultDays;
}

/** [notBefore, notAfter] for a certificate issued at `now` valid for `days`. */
export function validityWindow(now: Date, days: number, backdateSeconds: number): { notBefore: Date; notAfter: Date } {
  return validityWindowMs(now, days * DAY_MS, backdateSeconds);
}

export function validityWindowMs(now: Date, validityMs: number, backdateSeconds: number): { notBefore: Date; notAfter: Date } {
  // Whole seconds: X.509 times have no fractions, and the store should hold what the certificate says.
  const nowS = Math.floor(now.getTime() / 1000) * 1000;
  return { notBefore: new Date(nowS - backdateSeconds * 1000), notAfter: new Date(nowS + Math.floor(validityMs / 1000) * 1000) };
}
