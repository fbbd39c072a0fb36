// TrustSource over the certificate authority's gRPC API (dc.ca.v1): trust bundle and TIME_LIMITED enrolment tokens.
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { type ChannelCredentials, credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { caV1 } from '@dc/proto';
import { Unavailable } from '../errors';
import type { EnrolmentToken, TrustSource } from './trust-source';

export interface CaClientConfig {
  /** host:port of the CA (dc.ca.v1). */
  address: string;
  /** PEM of the CA's roots, to verify its server certificate (the CA writes trust-bundle.pem). */
  trustBundleFile: string;
  /** This service's identity certificate and key from the CA (mutual TLS, `callers`), optional. */
  certFile: string;
  keyFile: string;
  /** Name in the CA's server certificate when it differs from the dialled host. */
  serverName: string;
  /** A bearer token file (the service account's), used when set. */
  tokenFile: string;
  /** Deadline of each call. */
  timeoutMs: number;
}

export class CaTrustSource implements TrustSource {
  private readonly client: caV1.CertificateAuthorityServiceClient;

  constructor(private readonly config: CaClientConfig) {
    const creds: ChannelCredentials = credentials.createSsl(
      readFileSync(config.trustBundleFile),
      config.keyFile ? readFileSync(config.keyFile) : null,
      config.certFile ? readFileSync(config.certFile) : null,
    );
    this.client = new caV1.CertificateAuthorityServiceClient(
      config.address,
      creds,
      config.serverName ? { 'grpc.ssl_target_name_override': config.serverName } : {},
    );
  }

  async trustBundle(): Promise<string> {
    const res = await this.call<caV1.GetTrustBundleResponse>('GetTrustBundle', (md, opts, cb) => this.client.getTrustBundle({}, md, opts, cb));
    return res.trustBundlePem;
  }

  async createEnrolmentToken(request: { label: string; ttlSeconds: number }): Promise<EnrolmentToken> {
    const res = await this.call<caV1.CreateEnrolmentTokenResponse>('CreateEnrolmentToken', (md, opts, cb) =>
      this.client.createEnrolmentToken(
        {
          kind: caV1.EnrolmentTokenKind.ENROLMENT_TOKEN_KIND_TIME_LIMITED,
          label: request.label,
          ttl: { seconds: request.ttlSeconds, nanos: 0 },
          maxUses: 0,
          clientId: '',
        },
        md,
        opts,
        cb,
      ),
    );
    if (!res.token) throw new Unavailable('certificate authority answered CreateEnrolmentToken without a token');
    return { tokenId: res.token.tokenId, token: res.secret, expiresAt: res.token.expireTime ?? new Date(Date.now() + request.ttlSeconds * 1000) };
  }

  /** A SERVER certificate for this service's own API, the CA generating the key (returned once). */
  async issueServerCertificate(names: string[]): Promise<{ certPem: string; keyPem: string; notAfter: Date }> {
    const res = await this.call<caV1.IssueCertificateResponse>('IssueCertificate', (md, opts, cb) =>
      this.client.issueCertificate(
        {
          purpose: caV1.CertificatePurpose.CERTIFICATE_PURPOSE_SERVER,
          commonName: names[0],
          dnsNames: names.filter((n) => isIP(n) === 0),
          ipAddresses: names.filter((n) => isIP(n) !== 0),
          validity: undefined,
          csrPem: '',
          label: 'settings',
        },
        md,
        opts,
        cb,
      ),
    );
    if (!res.privateKeyPem || !res.certificate?.notAfter) throw new Unavailable('certificate authority answered IssueCertificate without a key');
    return { certPem: res.certificateChainPem, keyPem: res.privateKeyPem, notAfter: res.certificate.notAfter };
  }

  close(): void {
    this.client.close();
  }

  private call<T>(
    method: string,
    invoke: (md: Metadata, opts: { deadline: Date }, cb: (err: ServiceError | null, res: T) => void) => void,
  ): Promise<T> {
    const md = new Metadata();
    if (this.config.tokenFile) md.set('authorization', `Bearer ${readFileSync(this.config.tokenFile, 'utf8').trim()}`);
    return new Promise<T>((resolve, reject) => {
      invoke(md, { deadline: new Date(Date.now() + this.config.timeoutMs) }, (err, res) => {
        if (err) reject(new Unavailable(`certificate authority ${this.config.address} ${method} failed: ${err.details || err.message}`));
        else resolve(res);
      });
    });
  }
}

/** Used when no CA address is configured: every build fails saying what to configure. */
export const unconfiguredTrustSource: TrustSource = {
  trustBundle: () => Promise.reject(new Unavailable('no certificate authority configured (set ca.address and ca.trustBundleFile)')),
  createEnrolmentToken: () => Promise.reject(new Unavailable('no certificate authority configured (set ca.address and ca.trustBundleFile)')),
};
