// The CA end to end in one process: roots, issuing, enrolment, listing, renewal, revocation, rotation.
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CertificateAuthority } from './certificate-authority';
import { DAY_MS } from './clock';
import { opensslCsr, opensslVerify, rsaKey, tempDir } from './testing/helpers';

let tmp: ReturnType<typeof tempDir>;
let now: Date;
const clock = () => now;
let ca: CertificateAuthority;

beforeEach(() => {
  tmp = tempDir();
  now = new Date();
  ca = CertificateAuthority.open({ dataDir: join(tmp.dir, 'data'), clock });
});
afterEach(() => {
  ca.close();
  tmp.cleanup();
});

function reopen(): void {
  ca.close();
  ca = CertificateAuthority.open({ dataDir: join(tmp.dir, 'data'), clock });
}

const serverCert = (fqdn = 'broker.example.com', ipAddresses: string[] = []) =>
  ca.issueCertificate({ kind: 'server', commonName: fqdn, dnsNames: [fqdn], ipAddresses });

describe('the root CA', () => {
  it('is created on first start with its key in a 0600 file and reused after a restart', () => {
    const keysDir = join(tmp.dir, 'data', 'keys');
    const files = readdirSync(keysDir);
    expect(files).toHaveLength(1);
    expect(statSync(join(keysDir, files[0]!)).mode & 0o777).toBe(0o600);
    expect(statSync(keysDir).mode & 0o777).toBe(0o700);
    const before = ca.trustBundle();
    const issued = ca.issueCertificate({ kind: 'service', commonName: 'settings' });
    reopen();
    expect(ca.trustBundle()).toEqual(before);
    expect(readdirSync(keysDir)).toEqual(files);
    // A certificate from before the restart still verifies against the reloaded root.
    expect(new X509Certificate(issued.certificate.certificatePem).verify(ca.activeRoot().publicKey)).toBe(true);
    expect(ca.getCertificate(issued.certificate.serial)).toEqual(issued.certificate);
  });

  it('refuses to start without the root key file, or with a newer ca.db schema, saying what to do', () => {
    ca.close();
    const keysDir = join(tmp.dir, 'data', 'keys');
    const keyFile = join(keysDir, readdirSync(keysDir)[0]!);
    const saved = readFileSync(keyFile);
    rmSync(keyFile);
    expect(() => CertificateAuthority.open({ dataDir: join(tmp.dir, 'data'), clock })).toThrow(/private key file .* is missing; restore it from backup/);
    writeFileSync(keyFile, saved, { mode: 0o600 });
    const db = new Database(join(tmp.dir, 'data', 'ca.db'));
    db.pragma('user_version = 99');
    db.close();
    expect(() => CertificateAuthority.open({ dataDir: join(tmp.dir, 'data'), clock })).toThrow('ca.db has schema version 99, newer than this cert-authority knows');
    const fix = new Database(join(tmp.dir, 'data', 'ca.db'));
    fix.pragma('user_version = 1');
    fix.close();
    reopen();
  });

  it('is a self-signed CA certificate valid for ten years', () => {
    const root = new X509Certificate(ca.trustBundle().pem);
    expect(root.ca).toBe(true);
    expect(root.verify(root.publicKey)).toBe(true);
    expect(root.serialNumber.toLowerCase()).toBe(ca.trustBundle().roots[0]!.serial);
    const years = (Date.parse(root.validTo) - Date.parse(root.validFrom)) / (365 * DAY_MS);
    expect(years).toBeGreaterThan(9.9);
  });
});

describe('issuing', () => {
  it('issues the module server certificate for the FQDN and IPs, accepted by openssl verify as a server certificate', () => {
    const { certificate, privateKeyPem } = serverCert('broker.example.com', ['10.1.2.3', '::1']);
    const x = new X509Certificate(certificate.certificatePem);
    expect(x.subjectAltName).toBe('DNS:broker.example.com, IP Address:10.1.2.3, IP Address:0:0:0:0:0:0:0:1');
    expect(x.checkPrivateKey(createPrivateKey(privateKeyPem!))).toBe(true);
    expect(x.serialNumber.toLowerCase()).toBe(certificate.serial);
    expect(certificate.serial).toMatch(/^[0-7][0-9a-f]{31}$/);
    expect(certificate.purpose).toBe('server');
    expect(opensslVerify(tmp.dir, certificate.certificatePem, ca.trustBundle().pem, { purpose: 'sslserver' }).ok).toBe(true);
    expect(opensslVerify(tmp.dir, certificate.certificatePem, ca.trustBundle().pem, { purpose: 'sslclient' }).ok).toBe(false);
  });

  it('uses the common name as the SAN of a server certificate given no names, and works with IP addresses', () => {
    const { certificate } = ca.issueCertificate({ kind: 'server', commonName: '192.168.0.10' });
    expect(certificate.altNames.ipAddresses).toEqual(['192.168.0.10']);
    expect(now.getTime() - certificate.notBefore.getTime()).toBeGreaterThanOrEqual(300_000);
    expect(now.getTime() - certificate.notBefore.getTime()).toBeLessThan(301_000);
    expect(Math.round((certificate.notAfter.getTime() - now.getTime()) / DAY_MS)).toBe(397);
  });

  it('issues a zone proxy its endpoint-facing and link-facing certificates, named by the target hostnames', () => {
    const endpointFacing = ca.issueCertificate({
      kind: 'zone-proxy-endpoint',
      commonName: 'zone.example.org',
      dnsNames: ['zone.example.org'],
      ipAddresses: ['203.0.113.7'],
      label: 'dmz-1',
    });
    const linkFacing = ca.issueCertificate({ kind: 'zone-proxy-link', commonName: '10.0.0.5', label: 'dmz-1' });
    expect(new X509Certificate(endpointFacing.certificate.certificatePem).subjectAltName).toBe(
      'DNS:zone.example.org, IP Address:203.0.113.7, URI:urn:dc:zone-proxy:dmz-1',
    );
    expect(new X509Certificate(linkFacing.certificate.certificatePem).subjectAltName).toBe('IP Address:10.0.0.5, URI:urn:dc:zone-proxy:dmz-1');
    expect(opensslVerify(tmp.dir, linkFacing.certificate.certificatePem, ca.trustBundle().pem, { purpose: 'sslserver' }).ok).toBe(true);
  });

  it('issues a service identity usable as server and client, and a certificate for a CSR key without taking its names', () => {
    const service = ca.issueCertificate({ kind: 'service', commonName: 'settings', dnsNames: ['localhost'] });
    expect(new X509Certificate(service.certificate.certificatePem).subjectAltName).toBe('DNS:localhost, URI:urn:dc:service:settings');
    for (const purpose of ['sslserver', 'sslclient'] as const) {
      expect(opensslVerify(tmp.dir, service.certificate.certificatePem, ca.trustBundle().pem, { purpose }).ok).toBe(true);
    }
    const key = rsaKey();
    const fromCsr = ca.issueCertificate({ kind: 'client', commonName: 'module-server-link', csrPem: opensslCsr(tmp.dir, key.privateKeyPem, '/CN=ignored') });
    expect(fromCsr.privateKeyPem).toBeUndefined();
    const x = new X509Certificate(fromCsr.certificate.certificatePem);
    expect(x.checkPrivateKey(key.privateKey)).toBe(true);
    expect(x.subject).toContain('CN=module-server-link');
  });

  it('refuses bad names with the field, the value and the rule, and stores nothing', () => {
    expect(() => serverCert('exa mple.com')).toThrow('dns_names[0] "exa mple.com": label "exa mple" is not a valid DNS label');
    expect(() => serverCert('ok.example.com', ['10.0.0.300'])).toThrow('ip_addresses[0] "10.0.0.300": must be an IPv4 or IPv6 address');
    expect(() => ca.issueCertificate({ kind: 'service', commonName: 'Settings!' })).toThrow('common_name "Settings!"');
    expect(() => ca.issueCertificate({ kind: 'zone-proxy-link', commonName: 'z.example.org' })).toThrow('label "": must be 1–63 characters');
    expect(() => ca.issueCertificate({ kind: 'endpoint', commonName: 'x' })).toThrow('endpoint certificates come from SignCsr');
    expect(() => ca.issueCertificate({ kind: 'server', commonName: 'a.example.com', validityMs: 900 * DAY_MS })).toThrow(
      'validity "77760000s": must be from 1 minute to 825 days',
    );
    expect(() => ca.issueCertificate({ kind: 'server', commonName: 'a.example.com', csrPem: 'nope' })).toThrow('csr_pem "nope"');
    expect(ca.listCertificates({ includeExpired: true, includeRevoked: true }).certificates).toEqual([]);
  });
});

describe('endpoint enrolment from a CSR', () => {
  it('signs a CSR presented with a one-time token bound to an endpoint; the id comes from the token', () => {
    const key = rsaKey();
    const { token } = ca.createEnrolmentToken({ kind: 'one-time', endpointId: 'host-42' });
    const csr = opensslCsr(tmp.dir, key.privateKeyPem, '/CN=host-42');
    const { certificate, endpointId } = ca.signEndpointCsr({ csrPem: csr, enrolmentToken: token, hostName: 'web-01' });
    expect(endpointId).toBe('host-42');
    expect(certificate.label).toBe('web-01');
    const x = new X509Certificate(certificate.certificatePem);
    expect(x.subject).toContain('CN=host-42');
    expect(x.subjectAltName).toBe('URI:urn:dc:endpoint:host-42');
    expect(x.checkPrivateKey(key.privateKey)).toBe(true);
    expect(opensslVerify(tmp.dir, certificate.certificatePem, ca.trustBundle().pem, { purpose: 'sslclient' }).ok).toBe(true);
    expect(opensslVerify(tmp.dir, certificate.certificatePem, ca.trustBundle().pem, { purpose: 'sslserver' }).ok).toBe(false);
    expect(Math.round((certificate.notAfter.getTime() - now.getTime()) / DAY_MS)).toBe(90);
  });

  it('assigns a fresh endpoint id per enrolment with a time-limited token, up to its max uses', () => {
    const { token } = ca.createEnrolmentToken({ kind: 'time-limited', maxUses: 2, label: 'linux package' });
    const a = ca.signEndpointCsr({ csrPem: opensslCsr(tmp.dir, rsaKey().privateKeyPem), enrolmentToken: token });
    const b = ca.signEndpointCsr({ csrPem: opensslCsr(tmp.dir, rsaKey().privateKeyPem), enrolmentToken: token });
    expect(a.endpointId).toMatch(/^[0-9a-f-]{36}$/);
    expect(a.endpointId).not.toBe(b.endpointId);
    expect(() => ca.signEndpointCsr({ csrPem: opensslCsr(tmp.dir, rsaKey().privateKeyPem), enrolmentToken: token })).toThrow('is used up (2 of 2 uses)');
  });

  it('refuses a reused, expired, revoked or unknown token and changes nothing', () => {
    const csr = opensslCsr(tmp.dir, rsaKey().privateKeyPem);
    const once = ca.createEnrolmentToken({ kind: 'one-time' });
    ca.signEndpointCsr({ csrPem: csr, enrolmentToken: once.token });
    expect(() => ca.signEndpointCsr({ csrPem: csr, enrolmentToken: once.token })).toThrow(/used up/);

    const short = ca.createEnrolmentToken({ kind: 'time-limited', ttlMs: 60_000 });
    now = new Date(now.getTime() + 61_000);
    expect(() => ca.signEndpointCsr({ csrPem: csr, enrolmentToken: short.token })).toThrow(/expired at/);

    const revoked = ca.createEnrolmentToken({ kind: 'time-limited' });
    ca.revokeEnrolmentToken(revoked.record.id);
    expect(() => ca.signEndpointCsr({ csrPem: csr, enrolmentToken: revoked.token })).toThrow(/was revoked at/);

    const forged = `${revoked.token.slice(0, -4)}AAAA`;
    expect(() => ca.signEndpointCsr({ csrPem: csr, enrolmentToken: forged })).toThrow('enrolment token is unknown to this CA');
    expect(() => ca.signEndpointCsr({ csrPem: csr, enrolmentToken: 'letmein' })).toThrow('enrolment_token: must be an enrolment token of the form');

    expect(ca.listCertificates({ includeExpired: true }).certificates).toHaveLength(1);
    const uses = Object.fromEntries(ca.listEnrolmentTokens({ includeInactive: true }).tokens.map((t) => [t.id, t.uses]));
    expect(uses).toEqual({ [once.record.id]: 1, [short.record.id]: 0, [revoked.record.id]: 0 });
    expect(ca.listEnrolmentTokens().tokens).toEqual([]);
  });

  it('refuses a CSR asking for a name it may not have, without using up the token', () => {
    const key = rsaKey().privateKeyPem;
    const bound = ca.createEnrolmentToken({ kind: 'one-time', endpointId: 'host-1' });
    expect(() => ca.signEndpointCsr({ csrPem: opensslCsr(tmp.dir, key, '/CN=host-2'), enrolmentToken: bound.token })).toThrow(
      'this enrolment token is for endpoint "host-1"',
    );
    expect(() =>
      ca.signEndpointCsr({ csrPem: opensslCsr(tmp.dir, key, '/CN=host-1', ['-addext', 'subjectAltName=DNS:broker.example.com']), enrolmentToken: bound.token }),
    ).toThrow('asks for subjectAltNames');
    const fleet = ca.createEnrolmentToken({ kind: 'time-limited' });
    expect(() => ca.signEndpointCsr({ csrPem: opensslCsr(tmp.dir, key, '/CN=host-1'), enrolmentToken: fleet.token })).toThrow(
      'the CSR subject must be empty',
    );
    expect(ca.listEnrolmentTokens().tokens.every((t) => t.uses === 0)).toBe(true);
    expect(ca.signEndpointCsr({ csrPem: opensslCsr(tmp.dir, key, '/CN=host-1'), enrolmentToken: bound.token }).endpointId).toBe('host-1');
  });
});

describe('listing, renewal and revocation', () => {
  it('lists certificates newest first with their expiry, page by page, leaving out expired and revoked ones unless asked', () => {
    const serials = Array.from({ length: 5 }, (_, i) => {
      now = new Date(now.getTime() + 1000);
      return ca.issueCertificate({ kind: 'service', commonName: `svc-${i}`, validityMs: (i + 1) * DAY_MS }).certificate.serial;
    }).reverse();
    const first = ca.listCertificates({ pageSize: 2 });
    expect(first.certificates.map((c) => c.serial)).toEqual(serials.slice(0, 2));
    const second = ca.listCertificates({ pageSize: 2, pageToken: first.nextPageToken });
    const third = ca.listCertificates({ pageSize: 2, pageToken: second.nextPageToken });
    expect([...second.certificates, ...third.certificates].map((c) => c.serial)).toEqual(serials.slice(2));
    expect(third.nextPageToken).toBe('');
    expect(ca.listCertificates({ expiringBefore: new Date(now.getTime() + 2.5 * DAY_MS) }).certificates.map((c) => c.subjectName)).toEqual(['svc-1', 'svc-0']);
    ca.revokeCertificate({ serial: serials[0]!, reason: 'superseded' });
    now = new Date(now.getTime() + 1.5 * DAY_MS);
    expect(ca.listCertificates().certificates.map((c) => c.serial)).toEqual(serials.slice(1, 4));
    expect(ca.listCertificates({ includeExpired: true, includeRevoked: true }).certificates).toHaveLength(5);
    expect(() => ca.listCertificates({ pageToken: 'garbage' })).toThrow('page_token "garbage"');
    expect(() => ca.listCertificates({ pageSize: 5000 })).toThrow('page_size 5000');
  });

  it('renews before expiry with an overlap in which the old and the new certificate are both valid', () => {
    const old = serverCert();
    now = new Date(now.getTime() + 300 * DAY_MS);
    const renewed = ca.renewCertificate({ serial: old.certificate.serial, generateKey: true });
    expect(renewed.certificate.renewedFrom).toBe(old.certificate.serial);
    expect(renewed.certificate.altNames).toEqual(old.certificate.altNames);
    expect(new X509Certificate(renewed.certificate.certificatePem).checkPrivateKey(createPrivateKey(renewed.privateKeyPem!))).toBe(true);
    expect(renewed.certificate.notAfter.getTime()).toBeGreaterThan(old.certificate.notAfter.getTime());
    const at = Math.floor(now.getTime() / 1000);
    const bundle = ca.trustBundle().pem;
    expect(opensslVerify(tmp.dir, old.certificate.certificatePem, bundle, { atEpochSeconds: at }).ok).toBe(true);
    expect(opensslVerify(tmp.dir, renewed.certificate.certificatePem, bundle, { atEpochSeconds: at }).ok).toBe(true);
    expect(ca.getCertificate(old.certificate.serial).revocation).toBeUndefined();
  });

  it('renews with revoke_previous: the old certificate is revoked as superseded in the same step', () => {
    const old = serverCert();
    const renewed = ca.renewCertificate({ serial: old.certificate.serial, revokePrevious: true });
    expect(renewed.privateKeyPem).toBeUndefined();
    expect(ca.getCertificate(old.certificate.serial).revocation?.reason).toBe('superseded');
    expect(ca.revocationList().entries.map((e) => e.serial)).toEqual([old.certificate.serial]);
  });

  it('renews an endpoint certificate for the same key, or for a new key proven by CSR, never a CA-made key', () => {
    const key = rsaKey();
    const { token } = ca.createEnrolmentToken({ kind: 'one-time', endpointId: 'host-7' });
    const first = ca.signEndpointCsr({ csrPem: opensslCsr(tmp.dir, key.privateKeyPem), enrolmentToken: token });
    const sameKey = ca.renewCertificate({ serial: first.certificate.serial });
    expect(new X509Certificate(sameKey.certificate.certificatePem).checkPrivateKey(key.privateKey)).toBe(true);
    const next = rsaKey();
    const newKey = ca.renewCertificate({ serial: sameKey.certificate.serial, csrPem: opensslCsr(tmp.dir, next.privateKeyPem, '/CN=host-7') });
    expect(new X509Certificate(newKey.certificate.certificatePem).checkPrivateKey(next.privateKey)).toBe(true);
    expect(newKey.certificate.subjectName).toBe('host-7');
    expect(() => ca.renewCertificate({ serial: first.certificate.serial, csrPem: opensslCsr(tmp.dir, next.privateKeyPem, '/CN=host-8') })).toThrow(
      'for endpoint "host-7"',
    );
    expect(() => ca.renewCertificate({ serial: first.certificate.serial, generateKey: true })).toThrow('never leaves the endpoint');
  });

  it('revokes: the generation increases, the CRL lists the serial and openssl refuses the certificate', () => {
    const a = ca.issueCertificate({ kind: 'service', commonName: 'settings' });
    const b = ca.issueCertificate({ kind: 'service', commonName: 'module-server' });
    expect(ca.revocationList().generation).toBe(0);
    const { generation } = ca.revokeCertificate({ serial: a.certificate.serial, reason: 'key-compromise' });
    expect(generation).toBe(1);
    const list = ca.revocationList();
    expect(list.entries.map((e) => [e.serial, e.reason])).toEqual([[a.certificate.serial, 'key-compromise']]);
    const crl = list.crls[0]!.pem;
    const bundle = ca.trustBundle().pem;
    const refused = opensslVerify(tmp.dir, a.certificate.certificatePem, bundle, { crlPem: crl });
    expect(refused.ok).toBe(false);
    expect(refused.stdout + refused.stderr).toContain('certificate revoked');
    expect(opensslVerify(tmp.dir, b.certificate.certificatePem, bundle, { crlPem: crl }).ok).toBe(true);
    // Idempotent: a second revocation changes nothing.
    expect(ca.revokeCertificate({ serial: a.certificate.serial, reason: 'superseded' }).generation).toBe(1);
    expect(ca.getCertificate(a.certificate.serial).revocation?.reason).toBe('key-compromise');
    expect(() => ca.renewCertificate({ serial: a.certificate.serial })).toThrow(/was revoked at/);
    expect(ca.revocationList().generation).toBe(1);
  });

  it('drops expired certificates from the revocation list', () => {
    const a = ca.issueCertificate({ kind: 'client', commonName: 'c', validityMs: DAY_MS });
    ca.revokeCertificate({ serial: a.certificate.serial });
    expect(ca.revocationList().entries).toHaveLength(1);
    now = new Date(now.getTime() + 2 * DAY_MS);
    expect(ca.revocationList()).toMatchObject({ generation: 1, entries: [] });
  });

  it('refuses an unknown or malformed serial and changes nothing', () => {
    expect(() => ca.revokeCertificate({ serial: 'abcdef' })).toThrow('certificate with serial abcdef is not known to this CA');
    expect(() => ca.getCertificate('xyz')).toThrow('serial "xyz": must be a certificate serial number in hex');
    expect(() => ca.revokeCertificate({ serial: 'abcdef', reason: 'bored' as never })).toThrow('reason "bored"');
    // Serials are read in their minimal form, so "00ff" is looked up (and reported) as "ff".
    expect(() => ca.renewCertificate({ serial: '00ff' })).toThrow('certificate with serial ff is not known');
    expect(ca.revocationList().generation).toBe(0);
    expect(ca.listCertificates({ includeExpired: true, includeRevoked: true }).certificates).toEqual([]);
  });
});

describe('root rotation', () => {
  it('keeps the old root in the trust bundle for the overlap so its certificates verify while new ones come from the new root', () => {
    const oldLeaf = ca.issueCertificate({ kind: 'service', commonName: 'settings' });
    const oldRoot = ca.activeRoot().record;
    expect(ca.trustBundle().version).toBe(1);
    const newRoot = ca.rotateRoot({ overlapMs: 2 * DAY_MS });
    expect(newRoot.id).not.toBe(oldRoot.id);
    const newLeaf = ca.renewCertificate({ serial: oldLeaf.certificate.serial });
    expect(newLeaf.certificate.issuerRootId).toBe(newRoot.id);
    const bundle = ca.trustBundle();
    expect(bundle.version).toBe(2);
    expect(bundle.roots.map((r) => r.id)).toEqual([newRoot.id, oldRoot.id]);
    expect(opensslVerify(tmp.dir, oldLeaf.certificate.certificatePem, bundle.pem).ok).toBe(true);
    expect(opensslVerify(tmp.dir, newLeaf.certificate.certificatePem, bundle.pem).ok).toBe(true);
    expect(opensslVerify(tmp.dir, newLeaf.certificate.certificatePem, oldRoot.certificatePem).ok).toBe(false);
    expect(ca.revocationList().crls.map((c) => c.rootId)).toEqual([oldRoot.id, newRoot.id]);
    expect(() => ca.rotateRoot({ overlapMs: 1000 })).toThrow('overlap "1s": must be at least 1 day');

    now = new Date(now.getTime() + 2 * DAY_MS + 1000);
    reopen();
    expect(ca.trustBundle().roots.map((r) => r.id)).toEqual([newRoot.id]);
    expect(ca.activeRoot().record.id).toBe(newRoot.id);
    expect(opensslVerify(tmp.dir, oldLeaf.certificate.certificatePem, ca.trustBundle().pem).ok).toBe(false);
  });
});
