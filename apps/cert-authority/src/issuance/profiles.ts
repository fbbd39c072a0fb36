// What each kind of certificate is for: its purpose (EKU), default validity and identity URI.
import { DAY_MS } from '../clock';

/**
 * The certificates the CA issues (SPEC 1.1.2, 1.4.5, 1.4.6):
 * - `module-server`: the Module Server's server certificate for the configured FQDN and IPs;
 * - `zone-proxy-endpoint`: a zone proxy's endpoint-facing server certificate (Endpoint Target Hostname);
 * - `zone-proxy-link`: a zone proxy's link-facing certificate (Module Server Target Hostname);
 * - `service`: a service identity (settings, module-server, ...) for service-to-service mTLS;
 * - `endpoint`: a per-endpoint client certificate issued from the endpoint's CSR.
 */
export const CERTIFICATE_KINDS = ['module-server', 'zone-proxy-endpoint', 'zone-proxy-link', 'service', 'endpoint'] as const;
export type CertificateKind = (typeof CERTIFICATE_KINDS)[number];

/** Which extended key usages a certificate carries. */
export type Purpose = 'server' | 'client' | 'server-and-client';

export interface KindProfile {
  readonly purpose: Purpose;
  /** Organizational unit in the subject, so a certificate's kind is visible in `openssl x509 -text`. */
  readonly organizationalUnit: string;
}

export const PROFILES: Readonly<Record<CertificateKind, KindProfile>> = {
  'module-server': { purpose: 'server', organizationalUnit: 'module server' },
  'zone-proxy-endpoint': { purpose: 'server', organizationalUnit: 'zone proxy endpoint' },
  // The link is mutual TLS: the zone proxy serves :17487 and may also dial back (provisioning).
  'zone-proxy-link': { purpose: 'server-and-client', organizationalUnit: 'zone proxy link' },
  // Services both serve gRPC and call each other.
  service: { purpose: 'server-and-client', organizationalUnit: 'service' },
  endpoint: { purpose: 'client', organizationalUnit: 'endpoint' },
};

export const ORGANIZATION = 'Direct Connect';

/** Identity URIs put in the SAN, so a peer's identity does not depend on parsing the CN. */
export const identityUri = {
  service: (name: string) => `dc://service/${name}`,
  endpoint: (id: string) => `dc://endpoint/${id}`,
  zoneProxy: (name: string) => `dc://zone-proxy/${name}`,
};

/** Parses `dc://service/<name>`, `dc://endpoint/<id>`, `dc://zone-proxy/<name>`. */
export function parseIdentityUri(uri: string): { kind: 'service' | 'endpoint' | 'zone-proxy'; name: string } | undefined {
  const m = /^dc:\/\/(service|endpoint|zone-proxy)\/(.+)$/.exec(uri);
  return m ? { kind: m[1] as 'service' | 'endpoint' | 'zone-proxy', name: m[2]! } : undefined;
}

export interface ValidityConfig {
  readonly rootDays: number;
  readonly moduleServerDays: number;
  readonly zoneProxyDays: number;
  readonly serviceDays: number;
  readonly endpointDays: number;
  /** notBefore is set this far in the past so peers with a slightly slow clock accept new certificates. */
  readonly backdateSeconds: number;
}

export const DEFAULT_VALIDITY: ValidityConfig = {
  rootDays: 3650,
  moduleServerDays: 365,
  zoneProxyDays: 365,
  serviceDays: 365,
  endpointDays: 90,
  backdateSeconds: 300,
};

export function validityDaysFor(kind: CertificateKind, v: ValidityConfig): number {
  switch (kind) {
    case 'module-server':
      return v.moduleServerDays;
    case 'zone-proxy-endpoint':
    case 'zone-proxy-link':
      return v.zoneProxyDays;
    case 'service':
      return v.serviceDays;
    case 'endpoint':
      return v.endpointDays;
  }
}

/** [notBefore, notAfter] for a certificate issued at `now` valid for `days`. */
export function validityWindow(now: Date, days: number, backdateSeconds: number): { notBefore: Date; notAfter: Date } {
  // Whole seconds: X.509 times have no fractions, and the store should hold what the certificate says.
  const nowS = Math.floor(now.getTime() / 1000) * 1000;
  return { notBefore: new Date(nowS - backdateSeconds * 1000), notAfter: new Date(nowS + days * DAY_MS) };
}
