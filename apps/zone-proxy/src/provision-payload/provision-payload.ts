// The provision payload (SPEC 1.4.6): a random provision secret and a self-signed certificate,
// written by `zone-proxy install` to settings/PROVISION.txt in exactly the SPEC form.
import { createHash, createPrivateKey, generateKeyPairSync, randomBytes, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import forge from 'node-forge';
import { writeFileAtomic } from '@dc/service-kit';

/** 32 random bytes: the HMAC-SHA256 key of the provisioning proofs. */
export const PROVISION_SECRET_BYTES = 32;
/** Validity of the payload's self-signed certificate; it only authenticates provisioning. */
const PAYLOAD_CERT_DAYS = 825;

export interface ProvisionPayload {
  /** The decoded provision secret. */
  readonly secret: Buffer;
  /** The self-signed certificate the module server pins, PEM. */
  readonly certificatePem: string;
  /** SHA-256 of the certificate DER, lowercase hex (what settings records). */
  readonly fingerprintSha256: string;
}

export interface InstalledPayload extends ProvisionPayload {
  /** The certificate's private key, PKCS#8 PEM (never leaves the zone server). */
  readonly privateKeyPem: string;
}

/** Thrown when a provision payload text is not in the SPEC 1.4.6 form. */
export class ProvisionPayloadError extends Error {
  constructor(message: string) {
    super(`provision payload: ${message}`);
    this.name = 'ProvisionPayloadError';
  }
}

/** Where the installer keeps its files under the install directory. */
export function payloadPaths(installDir: string) {
  return {
    payload: join(installDir, 'settings', 'PROVISION.txt'),
    key: join(installDir, 'settings', 'provision-key.pem'),
  };
}

/** A fresh secret and a self-signed certificate for it (RSA-2048, SHA-256). */
export function generateProvisionPayload(opts: { commonName: string; now?: Date }): InstalledPayload {
  const now = opts.now ?? new Date();
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const privateKeyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }).toString());
  const serial = randomBytes(16);
  serial[0] = (serial[0]! & 0x7f) | 0x10;
  cert.serialNumber = serial.toString('hex');
  cert.validity.notBefore = new Date(now.getTime() - 5 * 60_000);
  cert.validity.notAfter = new Date(now.getTime() + PAYLOAD_CERT_DAYS * 86_400_000);
  const subject = [
    { name: 'commonName', value: opts.commonName },
    { name: 'organizationName', value: 'Direct Connect zone proxy provisioning' },
  ];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  // A self-signed CA-capable certificate so TLS clients can use it as their only root (pinning).
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, keyCertSign: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames: [{ type: 2, value: opts.commonName }] },
  ]);
  cert.sign(forge.pki.privateKeyFromPem(privateKeyPem), forge.md.sha256.create());
  const certificatePem = forge.pki.certificateToPem(cert);
  return { secret: randomBytes(PROVISION_SECRET_BYTES), certificatePem, privateKeyPem, fingerprintSha256: fingerprintOf(certificatePem) };
}

/** SPEC 1.4.6 form, PEM-style base64 lines of 64 characters, ending with a newline. */
export function formatProvisionPayload(p: ProvisionPayload): string {
  const der = new X509Certificate(p.certificatePem).raw;
  return block('PROVISION SECRET', p.secret) + block('CERTIFICATE', der);
}

function block(label: string, bytes: Buffer): string {
  const lines = bytes.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

const PAYLOAD_RE =
  /^\s*-----BEGIN PROVISION SECRET-----\r?\n([A-Za-z0-9+/=\r\n]+?)\r?\n-----END PROVISION SECRET-----\r?\n-----BEGIN CERTIFICATE-----\r?\n([A-Za-z0-9+/=\r\n]+?)\r?\n-----END CERTIFICATE-----\s*$/;

/** Parses the pasted or stored payload; a ProvisionPayloadError names what is wrong. */
export function parseProvisionPayload(text: string): ProvisionPayload {
  const m = PAYLOAD_RE.exec(text);
  if (!m) {
    throw new ProvisionPayloadError(
      'must be a "-----BEGIN PROVISION SECRET-----" block followed by a "-----BEGIN CERTIFICATE-----" block (SPEC 1.4.6), with base64 content',
    );
  }
  const secret = strictBase64(m[1]!, 'PROVISION SECRET');
  if (secret.length !== PROVISION_SECRET_BYTES) {
    throw new ProvisionPayloadError(`the PROVISION SECRET block must hold ${PROVISION_SECRET_BYTES} bytes (got ${secret.length})`);
  }
  const der = strictBase64(m[2]!, 'CERTIFICATE');
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(der);
  } catch (err) {
    throw new ProvisionPayloadError(`the CERTIFICATE block is not a DER X.509 certificate (${(err as Error).message})`);
  }
  if (!x509.verify(x509.publicKey)) throw new ProvisionPayloadError('the CERTIFICATE block is not a valid self-signed certificate (its signature does not verify)');
  return { secret, certificatePem: x509.toString(), fingerprintSha256: fingerprintOf(x509.toString()) };
}

function strictBase64(text: string, label: string): Buffer {
  const compact = text.replace(/\r?\n/g, '');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(compact) || compact.length % 4 !== 0) {
    throw new ProvisionPayloadError(`the ${label} block is not valid base64`);
  }
  return Buffer.from(compact, 'base64');
}

export function fingerprintOf(certificatePem: string): string {
  return createHash('sha256').update(new X509Certificate(certificatePem).raw).digest('hex');
}

/**
 * `zone-proxy install`: a new payload replaces the old one. The key goes first, so a crash
 * between the two writes leaves a payload whose certificate does not match the key — which
 * readInstalledPayload refuses, asking for a re-run — never a usable stale pair.
 */
export function installProvisionPayload(installDir: string, commonName: string): InstalledPayload {
  const payload = generateProvisionPayload({ commonName });
  const paths = payloadPaths(installDir);
  writeFileAtomic(paths.key, payload.privateKeyPem);
  writeFileAtomic(paths.payload, formatProvisionPayload(payload));
  return payload;
}

/** The installed payload and its key, or undefined when the installer has not run. */
export function readInstalledPayload(installDir: string): InstalledPayload | undefined {
  const paths = payloadPaths(installDir);
  let text: string;
  let privateKeyPem: string;
  try {
    text = readFileSync(paths.payload, 'utf8');
    privateKeyPem = readFileSync(paths.key, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const parsed = parseProvisionPayload(text);
  const x509 = new X509Certificate(parsed.certificatePem);
  if (!x509.checkPrivateKey(createPrivateKey(privateKeyPem))) {
    throw new ProvisionPayloadError(`${paths.payload} does not match ${paths.key}; re-run "zone-proxy install"`);
  }
  return { ...parsed, privateKeyPem };
}
