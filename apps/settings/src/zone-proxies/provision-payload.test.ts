// The provision payload parser, table-driven (SPEC 1.4.6).
import { describe, expect, it } from 'vitest';
import { provisionPayload, selfSignedCertificate } from '../testing/certificates';
import { parseProvisionPayload } from './provision-payload';

const now = new Date();
const good = provisionPayload();

describe('parseProvisionPayload', () => {
  it('reads the secret and the certificate of a payload the installer printed', () => {
    const parsed = parseProvisionPayload(good, now);
    expect(parsed.secret).toHaveLength(32);
    expect(parsed.certificate.subject).toContain('CN=zone-proxy.test');
    expect(parsed.certificatePem).toMatch(/^-----BEGIN CERTIFICATE-----/);
  });

  it('accepts Windows line endings and surrounding blank lines', () => {
    expect(() => parseProvisionPayload(`\r\n${good.replace(/\n/g, '\r\n')}\r\n`, now)).not.toThrow();
  });

  const secretBlock = good.slice(0, good.indexOf('-----BEGIN CERTIFICATE-----'));
  const certBlock = good.slice(good.indexOf('-----BEGIN CERTIFICATE-----'));
  it.each([
    ['an empty payload', '', 'provisionPayload: is empty'],
    ['a missing secret block', certBlock, 'provisionPayload: the PROVISION SECRET block is missing'],
    ['a missing certificate block', secretBlock, 'provisionPayload: the CERTIFICATE block is missing'],
    ['blocks in the wrong order', certBlock + secretBlock, 'must come before the CERTIFICATE block'],
    ['two payloads pasted', good + good, 'more than one PROVISION SECRET or CERTIFICATE block'],
    ['text outside the blocks', `hello\n${good}`, 'holds text outside the two blocks ("hello")'],
    ['a short secret', provisionPayload({ secretBytes: 16 }), 'the provision secret is 16 bytes; at least 32 are required'],
    ['bad base64 in the secret', good.replace(/SECRET-----\n[^\n]+/, 'SECRET-----\n!!!notbase64!!!'), 'the PROVISION SECRET block is not valid base64'],
    ['a certificate that is not DER', provisionPayload({ der: Buffer.from('this is not a certificate at all') }), 'the certificate does not parse as an X.509 DER certificate'],
    ['mismatched BEGIN/END', good.replace('-----END CERTIFICATE-----', '-----END PRIVATE KEY-----'), 'block "BEGIN CERTIFICATE" is closed by "END PRIVATE KEY"'],
  ])('refuses %s, saying what is wrong', (_case, payload, message) => {
    expect(() => parseProvisionPayload(payload, now)).toThrow(message);
  });

  it('refuses an expired certificate', () => {
    const old = selfSignedCertificate('old', new Date('2020-01-01'), new Date('2021-01-01'));
    expect(() => parseProvisionPayload(provisionPayload({ der: old.der }), now)).toThrow('the certificate expired on 2021-01-01');
  });
});
