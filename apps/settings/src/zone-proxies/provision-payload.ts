// Parser of the zone proxy provision payload (SPEC 1.4.6): a PROVISION SECRET block then a CERTIFICATE block.
import { X509Certificate } from 'node:crypto';
import { InvalidArgument } from '../errors';

export const MIN_PROVISION_SECRET_BYTES = 32;

export interface ProvisionPayload {
  secret: Buffer;
  certificatePem: string;
  certificate: X509Certificate;
}

const FIELD = 'provisionPayload';
const BLOCK = /-----BEGIN ([A-Z ]+)-----\n([\s\S]*?)\n?-----END ([A-Z ]+)-----/g;

function fail(rule: string): never {
  throw new InvalidArgument(FIELD, rule);
}

function strictBase64(label: string, body: string): Buffer {
  const compact = body.replace(/\s+/g, '');
  if (compact === '') fail(`the ${label} block is empty`);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(compact) || compact.length % 4 !== 0) {
    fail(`the ${label} block is not valid base64`);
  }
  return Buffer.from(compact, 'base64');
}

/**
 * Parses the payload the zone proxy installer prints and writes to settings/PROVISION.txt.
 * Errors name what is wrong: a missing block, bad base64, a short secret, a certificate that
 * does not parse or has expired.
 */
export function parseProvisionPayload(text: string, now: Date): ProvisionPayload {
  const normalised = text.replace(/\r\n?/g, '\n').trim();
  if (normalised === '') fail('is empty; paste the whole payload the zone proxy installer printed');
  const blocks: Array<{ label: string; body: string; start: number; end: number }> = [];
  for (const m of normalised.matchAll(BLOCK)) {
    if (m[1] !== m[3]) fail(`block "BEGIN ${m[1]}" is closed by "END ${m[3]}"`);
    blocks.push({ label: m[1], body: m[2], start: m.index, end: m.index + m[0].length });
  }
  const secretBlocks = blocks.filter((b) => b.label === 'PROVISION SECRET');
  const certBlocks = blocks.filter((b) => b.label === 'CERTIFICATE');
  if (secretBlocks.length === 0) {
    fail('the PROVISION SECRET block is missing (-----BEGIN PROVISION SECRET----- … -----END PROVISION SECRET-----)');
  }
  if (certBlocks.length === 0) {
    fail('the CERTIFICATE block is missing (-----BEGIN CERTIFICATE----- … -----END CERTIFICATE-----)');
  }
  if (secretBlocks.length > 1 || certBlocks.length > 1) {
    fail('holds more than one PROVISION SECRET or CERTIFICATE block; paste a single payload');
  }
  const other = blocks.find((b) => b.label !== 'PROVISION SECRET' && b.label !== 'CERTIFICATE');
  if (other) fail(`holds an unexpected "${other.label}" block`);
  const [secretBlock, certBlock] = [secretBlocks[0], certBlocks[0]];
  if (secretBlock.start > certBlock.start) fail('the PROVISION SECRET block must come before the CERTIFICATE block');
  const outside = (normalised.slice(0, secretBlock.start) + normalised.slice(secretBlock.end, certBlock.start) + normalised.slice(certBlock.end)).trim();
  if (outside !== '') fail(`holds text outside the two blocks ("${outside.slice(0, 40)}")`);

  const secret = strictBase64('PROVISION SECRET', secretBlock.body);
  if (secret.length < MIN_PROVISION_SECRET_BYTES) {
    fail(`the provision secret is ${secret.length} bytes; at least ${MIN_PROVISION_SECRET_BYTES} are required`);
  }
  const der = strictBase64('CERTIFICATE', certBlock.body);
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(der);
  } catch (err) {
    fail(`the certificate does not parse as an X.509 DER certificate (${(err as Error).message})`);
  }
  if (new Date(certificate.validTo) < now) fail(`the certificate expired on ${new Date(certificate.validTo).toISOString()}`);
  if (new Date(certificate.validFrom) > now) {
    fail(`the certificate is not valid before ${new Date(certificate.validFrom).toISOString()} (check the clocks)`);
  }
  return { secret, certificate, certificatePem: certificate.toString() };
}
