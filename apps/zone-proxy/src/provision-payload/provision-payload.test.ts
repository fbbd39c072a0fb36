import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { makeTempDir } from '@dc/service-kit/testing';
import { afterEach, describe, expect, it } from 'vitest';
import {
  formatProvisionPayload,
  generateProvisionPayload,
  installProvisionPayload,
  parseProvisionPayload,
  payloadPaths,
  readInstalledPayload,
} from './provision-payload';

const temps: Array<{ remove(): void }> = [];
afterEach(() => temps.splice(0).forEach((t) => t.remove()));
const tempDir = () => {
  const t = makeTempDir('dc-zp-payload-');
  temps.push(t);
  return t.dir;
};

describe('provision payload', () => {
  it('is written in exactly the SPEC 1.4.6 form, mode 0600', () => {
    const dir = tempDir();
    const installed = installProvisionPayload(dir, 'zone-a');
    const text = readFileSync(payloadPaths(dir).payload, 'utf8');
    expect(text).toMatch(/^-----BEGIN PROVISION SECRET-----\n[A-Za-z0-9+/]{43}=\n-----END PROVISION SECRET-----\n-----BEGIN CERTIFICATE-----\n([A-Za-z0-9+/=]{1,64}\n)+-----END CERTIFICATE-----\n$/);
    expect(statSync(payloadPaths(dir).payload).mode & 0o777).toBe(0o600);
    expect(statSync(payloadPaths(dir).key).mode & 0o777).toBe(0o600);
    const parsed = parseProvisionPayload(text);
    expect(parsed.secret.equals(installed.secret)).toBe(true);
    expect(parsed.fingerprintSha256).toBe(installed.fingerprintSha256);
    // The certificate block is the DER of a certificate openssl-compatible tools can read.
    const der = Buffer.from(text.split('-----BEGIN CERTIFICATE-----\n')[1]!.split('\n-----END')[0]!.replace(/\n/g, ''), 'base64');
    expect(der[0]).toBe(0x30);
  });

  it('makes a new secret and certificate on every run, replacing the old payload', () => {
    const dir = tempDir();
    const first = installProvisionPayload(dir, 'zone-a');
    const second = installProvisionPayload(dir, 'zone-a');
    expect(second.secret.equals(first.secret)).toBe(false);
    expect(second.fingerprintSha256).not.toBe(first.fingerprintSha256);
    expect(readInstalledPayload(dir)!.fingerprintSha256).toBe(second.fingerprintSha256);
  });

  it('accepts a pasted payload with CRLF line ends and surrounding blank lines', () => {
    const p = generateProvisionPayload({ commonName: 'zone-b' });
    const pasted = `\n  ${formatProvisionPayload(p).replace(/\n/g, '\r\n')}\n\n`;
    expect(parseProvisionPayload(pasted).fingerprintSha256).toBe(p.fingerprintSha256);
  });

  it.each([
    ['blocks swapped', (t: string) => t.split('-----BEGIN CERTIFICATE-----').reverse().join('-----BEGIN CERTIFICATE-----'), /must be a "-----BEGIN PROVISION SECRET-----" block/],
    ['a short secret', (t: string) => t.replace(/SECRET-----\n[^\n]+\n/, 'SECRET-----\nAAAA\n'), /must hold 32 bytes \(got 3\)/],
    ['bad base64 in the secret', (t: string) => t.replace(/SECRET-----\n[^\n]{4}/, 'SECRET-----\n!!!!'), /must be a "-----BEGIN PROVISION SECRET-----"/],
    ['a certificate byte changed', (t: string) => t.replace(/(CERTIFICATE-----\n(?:[^\n]+\n){4}[^\n]{10})([A-Za-z])/, (_m, a: string, c: string) => a + (c === 'A' ? 'B' : 'A')), /CERTIFICATE block is not/],
    ['the certificate cut short', (t: string) => t.replace(/(CERTIFICATE-----\n(?:[^\n]+\n){3})(?:(?!-----END)[^\n]+\n)+/, '$1'), /CERTIFICATE block is not/],
  ])('refuses a tampered payload: %s', (_name, tamper, message) => {
    const text = formatProvisionPayload(generateProvisionPayload({ commonName: 'zone-c' }));
    expect(() => parseProvisionPayload(tamper(text))).toThrow(message);
  });

  it('refuses a payload whose certificate does not match the stored key', () => {
    const dir = tempDir();
    installProvisionPayload(dir, 'zone-a');
    const other = tempDir();
    installProvisionPayload(other, 'zone-a');
    writeFileSync(payloadPaths(dir).payload, readFileSync(payloadPaths(other).payload));
    expect(() => readInstalledPayload(dir)).toThrow(/does not match .*provision-key\.pem; re-run "zone-proxy install"/);
  });
});
