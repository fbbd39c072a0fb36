// Test support: real self-signed certificates (node-forge), provision payloads and a local TrustSource.
import { generateKeyPairSync, type KeyObject, randomBytes } from 'node:crypto';
import forge from 'node-forge';
import type { EnrolmentToken, TrustSource } from '../content-build/trust-source';

let sharedKeys: { privateKey: KeyObject; publicKey: KeyObject } | undefined;

/** A real self-signed certificate (RSA 2048, SHA-256) valid from `notBefore` to `notAfter`. */
export function selfSignedCertificate(
  commonName: string,
  notBefore = new Date(Date.now() - 3600_000),
  notAfter = new Date(Date.now() + 365 * 24 * 3600_000),
): { pem: string; der: Buffer } {
  // One key pair per process (generation is the slow part); each call signs a new certificate.
  const { privateKey, publicKey } = (sharedKeys ??= generateKeyPairSync('rsa', { modulusLength: 2048 }));
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }).toString());
  cert.serialNumber = `01${randomBytes(8).toString('hex')}`;
  cert.validity.notBefore = notBefore;
  cert.validity.notAfter = notAfter;
  const attrs = [{ name: 'commonName', value: commonName }];
  cert.setSubject(attrs);
  cert.setIssuer(attrs);
  cert.setExtensions([{ name: 'basicConstraints', cA: true }]);
  cert.sign(forge.pki.privateKeyFromPem(privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()), forge.md.sha256.create());
  const pem = forge.pki.certificateToPem(cert);
  const der = Buffer.from(forge.asn1.toDer(forge.pki.certificateToAsn1(cert)).getBytes(), 'binary');
  return { pem, der };
}

/** A provision payload in the SPEC 1.4.6 form, as the zone proxy installer prints it. */
export function provisionPayload(opts: { secretBytes?: number; der?: Buffer } = {}): string {
  const secret = randomBytes(opts.secretBytes ?? 32).toString('base64');
  const der = (opts.der ?? selfSignedCertificate('zone-proxy.test').der).toString('base64');
  return [
    '-----BEGIN PROVISION SECRET-----',
    secret,
    '-----END PROVISION SECRET-----',
    '-----BEGIN CERTIFICATE-----',
    ...(der.match(/.{1,64}/g) ?? []),
    '-----END CERTIFICATE-----',
    '',
  ].join('\n');
}

/** A TrustSource backed by a real self-signed CA certificate made in the test, counting its tokens. */
let sharedCa: { pem: string; der: Buffer } | undefined;

export class LocalTrustSource implements TrustSource {
  /** One CA per test process: RSA key generation is the slow part. */
  readonly ca = (sharedCa ??= selfSignedCertificate('Direct Connect Test CA'));
  readonly tokens: EnrolmentToken[] = [];
  failWith: Error | undefined;

  async trustBundle(): Promise<string> {
    if (this.failWith) throw this.failWith;
    return this.ca.pem;
  }

  async createEnrolmentToken(request: { ttlSeconds: number }): Promise<EnrolmentToken> {
    if (this.failWith) throw this.failWith;
    const tokenId = randomBytes(8).toString('hex');
    const token = { tokenId, token: `dcet_${tokenId}_${randomBytes(32).toString('base64url')}`, expiresAt: new Date(Date.now() + request.ttlSeconds * 1000) };
    this.tokens.push(token);
    return token;
  }
}
