// Bootstrap credentials and the CA's own TLS certificate: written 0600, reused, reissued when no longer good.
import { X509Certificate } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CertificateAuthority } from '../certificate-authority';
import { DAY_MS } from '../clock';
import { tempDir } from '../testing/helpers';
import { ensureCallerCredentials, ensureServerCredential, writeTrustBundle } from './credentials';

let tmp: ReturnType<typeof tempDir>;
let now: Date;
let ca: CertificateAuthority;

beforeEach(() => {
  tmp = tempDir();
  now = new Date();
  ca = CertificateAuthority.open({ dataDir: tmp.dir, clock: () => now });
});
afterEach(() => {
  ca.close();
  tmp.cleanup();
});

describe('bootstrap credentials', () => {
  it('writes a service identity per caller with its key 0600, and reuses it on the next start', () => {
    const first = ensureCallerCredentials(ca, tmp.dir, ['settings', 'module-server'], now);
    const settings = first.get('settings')!;
    expect(settings.issued).toBe(true);
    expect(statSync(settings.keyFile).mode & 0o777).toBe(0o600);
    expect(new X509Certificate(settings.certPem).subjectAltName).toBe('URI:urn:dc:service:settings');
    const again = ensureCallerCredentials(ca, tmp.dir, ['settings', 'module-server'], now);
    expect(again.get('settings')!.issued).toBe(false);
    expect(again.get('settings')!.certPem).toBe(settings.certPem);
  });

  it('reissues a credential that was revoked or has less than 30 days left', () => {
    const first = ensureCallerCredentials(ca, tmp.dir, ['settings'], now).get('settings')!;
    ca.revokeCertificate({ serial: new X509Certificate(first.certPem).serialNumber });
    const second = ensureCallerCredentials(ca, tmp.dir, ['settings'], now).get('settings')!;
    expect(second.issued).toBe(true);
    expect(readFileSync(second.certFile, 'utf8')).toBe(second.certPem);
    now = new Date(now.getTime() + 370 * DAY_MS);
    expect(ensureCallerCredentials(ca, tmp.dir, ['settings'], now).get('settings')!.issued).toBe(true);
  });

  it('reissues the CA server certificate when the configured names change', () => {
    const a = ensureServerCredential(ca, tmp.dir, ['localhost', '127.0.0.1'], now);
    expect(new X509Certificate(a.certPem).subjectAltName).toBe('DNS:localhost, IP Address:127.0.0.1, URI:urn:dc:service:cert-authority');
    expect(ensureServerCredential(ca, tmp.dir, ['localhost', '127.0.0.1'], now).issued).toBe(false);
    expect(ensureServerCredential(ca, tmp.dir, ['ca.internal'], now).issued).toBe(true);
  });

  it('writes the trust bundle for local clients', () => {
    const file = writeTrustBundle(ca, tmp.dir);
    expect(readFileSync(file, 'utf8')).toBe(ca.trustBundle().pem);
  });
});
