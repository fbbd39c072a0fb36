// Files the CA writes for its own TLS and for its callers: server cert, caller identities, trust bundle.
import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CertificateAuthority } from '../certificate-authority';
import { DAY_MS } from '../clock';
import { writeFileAtomic } from '@dc/service-kit';

/** Certificates and the trust bundle: anyone may read them. */
const PUBLIC = { mode: 0o644, dirMode: 0o755 } as const;

/** Reissue a credential of ours when it has less than this left. */
const RENEW_BEFORE_MS = 30 * DAY_MS;

export interface CredentialFiles {
  readonly certFile: string;
  readonly keyFile: string;
  readonly certPem: string;
  readonly keyPem: string;
  /** True when this start issued it (false: reused from disk). */
  readonly issued: boolean;
}

export const trustBundleFile = (dataDir: string) => join(dataDir, 'trust-bundle.pem');

/** Writes the trust bundle where local callers can read it (mode 0644: it holds only public roots). */
export function writeTrustBundle(ca: CertificateAuthority, dataDir: string): string {
  const file = trustBundleFile(dataDir);
  writeFileAtomic(file, ca.trustBundle().pem, PUBLIC);
  return file;
}

/**
 * The CA's own TLS server certificate (a SERVICE identity "cert-authority" for its listen
 * names), reused across restarts while it is valid, unrevoked, from a trusted root and for
 * the same names; otherwise issued anew.
 */
export function ensureServerCredential(ca: CertificateAuthority, dataDir: string, hosts: readonly string[], now: Date): CredentialFiles {
  const dnsNames = hosts.filter((h) => !/^[0-9.]+$/.test(h) && !h.includes(':'));
  const ipAddresses = hosts.filter((h) => !dnsNames.includes(h));
  return ensureIdentity(ca, join(dataDir, 'tls'), 'server', now, { dnsNames, ipAddresses }, () =>
    ca.issueCertificate({ kind: 'service', commonName: 'cert-authority', dnsNames, ipAddresses, label: 'cert-authority TLS' }),
  );
}

/** Service identities for the configured callers, in <dataDir>/credentials/<name>.{cert,key}.pem. */
export function ensureCallerCredentials(ca: CertificateAuthority, dataDir: string, callers: readonly string[], now: Date): Map<string, CredentialFiles> {
  const out = new Map<string, CredentialFiles>();
  for (const name of callers) {
    out.set(
      name,
      ensureIdentity(ca, join(dataDir, 'credentials'), name, now, undefined, () =>
        ca.issueCertificate({ kind: 'service', commonName: name, label: 'bootstrap credential' }),
      ),
    );
  }
  return out;
}

function ensureIdentity(
  ca: CertificateAuthority,
  dir: string,
  name: string,
  now: Date,
  names: { dnsNames: string[]; ipAddresses: string[] } | undefined,
  issue: () => { certificate: { certificatePem: string }; privateKeyPem?: string },
): CredentialFiles {
  const certFile = join(dir, `${name}.cert.pem`);
  const keyFile = join(dir, `${name}.key.pem`);
  if (existsSync(certFile) && existsSync(keyFile)) {
    const certPem = readFileSync(certFile, 'utf8');
    if (stillGood(ca, certPem, now, names)) return { certFile, keyFile, certPem, keyPem: readFileSync(keyFile, 'utf8'), issued: false };
  }
  const issued = issue();
  // Key first, then the certificate: a reader that finds the new certificate finds its key.
  writeFileAtomic(keyFile, issued.privateKeyPem!);
  writeFileAtomic(certFile, issued.certificate.certificatePem, PUBLIC);
  return { certFile, keyFile, certPem: issued.certificate.certificatePem, keyPem: issued.privateKeyPem!, issued: true };
}

function stillGood(ca: CertificateAuthority, certPem: string, now: Date, names?: { dnsNames: string[]; ipAddresses: string[] }): boolean {
  let record;
  try {
    record = ca.getCertificate(new X509Certificate(certPem).serialNumber);
  } catch {
    return false;
  }
  if (record.revocation || record.notAfter.getTime() - now.getTime() < RENEW_BEFORE_MS) return false;
  if (!ca.trustBundle().roots.some((r) => r.id === record.issuerRootId)) return false;
  if (names && (record.altNames.dnsNames.join() !== names.dnsNames.join() || record.altNames.ipAddresses.join() !== names.ipAddresses.join())) return false;
  return true;
}
