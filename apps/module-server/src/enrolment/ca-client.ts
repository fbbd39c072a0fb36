// The certificate authority over gRPC (dc.ca.v1): enrolment (SignCsr), renewal, the revocation
// list (polled by version), the broker's own server certificate. Authenticates with the
// module-server service certificate the CA writes for its callers.
import { credentials, type ServiceError } from '@grpc/grpc-js';
import { caV1 as ca } from '@dc/proto';
import type { TlsPem } from '@dc/service-kit';
import type { Logger } from 'pino';
import { type CertificateIssuer, type IssuedEndpointCertificate, normaliseSerial, type RevocationList } from './certificate-issuer';

export interface CaClientOptions {
  /** host:port of the CA (default port 17482). */
  readonly address: string;
  /** Trust bundle and this service's certificate and key (from the CA's credentials/ directory). */
  readonly tls: TlsPem;
  readonly serverName?: string;
  readonly log: Logger;
  /** How often the revocation list is polled (it answers "unchanged" cheaply). */
  readonly revocationRefreshMs?: number;
}

function call<Req, Res>(fn: (req: Req, cb: (err: ServiceError | null, res: Res) => void) => unknown, req: Req): Promise<Res> {
  return new Promise((resolve, reject) => fn(req, (err, res) => (err ? reject(err) : resolve(res))));
}

export class CaClient implements CertificateIssuer, RevocationList {
  readonly client: ca.CertificateAuthorityServiceClient;
  private revoked = new Set<string>();
  private version = 0;
  private timer?: NodeJS.Timeout;

  constructor(private readonly opts: CaClientOptions) {
    const creds = credentials.createSsl(Buffer.from(opts.tls.caPem), opts.tls.keyPem ? Buffer.from(opts.tls.keyPem) : null, opts.tls.certPem ? Buffer.from(opts.tls.certPem) : null);
    const options = opts.serverName ? { 'grpc.ssl_target_name_override': opts.serverName, 'grpc.default_authority': opts.serverName } : {};
    this.client = new ca.CertificateAuthorityServiceClient(opts.address, creds, options);
  }

  async enrolEndpoint(req: { csrPem: string; enrolmentToken: string; hostName: string }): Promise<IssuedEndpointCertificate> {
    const res = await call<ca.SignCsrRequest, ca.SignCsrResponse>(this.client.signCsr.bind(this.client), { csrPem: req.csrPem, enrolmentToken: req.enrolmentToken, hostName: req.hostName });
    return issued(res.clientId, res.certificate, res.certificateChainPem, res.trustBundlePem);
  }

  async renewEndpoint(req: { clientId: string; currentSerial: string; csrPem: string }): Promise<IssuedEndpointCertificate> {
    const res = await call<ca.RenewCertificateRequest, ca.RenewCertificateResponse>(this.client.renewCertificate.bind(this.client), ca.RenewCertificateRequest.fromPartial({ serial: req.currentSerial, csrPem: req.csrPem }));
    const bundle = await this.trustBundle();
    return issued(req.clientId, res.certificate, res.certificateChainPem, bundle);
  }

  isRevoked(serial: string): boolean {
    return this.revoked.has(normaliseSerial(serial));
  }

  /** Fetches the revocation list if it changed; returns the number of revoked serials. */
  async refreshRevocations(): Promise<number> {
    const res = await call<ca.GetRevocationListRequest, ca.GetRevocationListResponse>(this.client.getRevocationList.bind(this.client), { knownVersion: this.version });
    if (!res.unchanged) {
      this.revoked = new Set(res.entries.map((e) => normaliseSerial(e.serial)));
      this.version = res.version;
      this.opts.log.info({ version: res.version, revoked: this.revoked.size }, 'revocation list updated');
    }
    return this.revoked.size;
  }

  startRevocationPolling(): void {
    this.timer = setInterval(() => {
      this.refreshRevocations().catch((err: unknown) => this.opts.log.warn({ err: (err as Error).message }, 'cannot refresh the revocation list; keeping the last one'));
    }, this.opts.revocationRefreshMs ?? 30_000);
    this.timer.unref();
  }

  async trustBundle(): Promise<string> {
    const res = await call<ca.GetTrustBundleRequest, ca.GetTrustBundleResponse>(this.client.getTrustBundle.bind(this.client), {});
    return res.trustBundlePem;
  }

  /** A server certificate for the gateway (names: the FQDN endpoints use, plus extra names/IPs). */
  async issueServerCertificate(names: readonly string[], validityMs?: number): Promise<{ certPem: string; keyPem: string; notAfter: Date | undefined }> {
    const ips = names.filter((n) => /^[\d.]+$|:/.test(n));
    const dns = names.filter((n) => !ips.includes(n));
    const res = await call<ca.IssueCertificateRequest, ca.IssueCertificateResponse>(
      this.client.issueCertificate.bind(this.client),
      ca.IssueCertificateRequest.fromPartial({ purpose: ca.CertificatePurpose.CERTIFICATE_PURPOSE_SERVER, commonName: dns[0] ?? ips[0] ?? 'module-server', dnsNames: dns, ipAddresses: ips, label: 'module-server gateway',
        validity: validityMs === undefined ? undefined : { seconds: Math.floor(validityMs / 1000), nanos: 0 } }),
    );
    return { certPem: res.certificateChainPem, keyPem: res.privateKeyPem, notAfter: res.certificate?.notAfter };
  }

  /** Endpoint client certificates (valid, not revoked) expiring before `before`, counted over every page of ListCertificates. */
  async countEndpointCertificatesExpiringBefore(before: Date): Promise<number> {
    let count = 0;
    let pageToken = '';
    do {
      const res = await call<ca.ListCertificatesRequest, ca.ListCertificatesResponse>(
        this.client.listCertificates.bind(this.client),
        ca.ListCertificatesRequest.fromPartial({ pageSize: 1000, pageToken, purpose: ca.CertificatePurpose.CERTIFICATE_PURPOSE_ENDPOINT, expiringBefore: before }),
      );
      count += res.certificates.filter((c) => !c.revoked).length;
      pageToken = res.nextPageToken;
    } while (pageToken);
    return count;
  }

  /** An enrolment token (the content build makes these; here for tests and tooling). */
  async createEnrolmentToken(label: string): Promise<string> {
    const res = await call<ca.CreateEnrolmentTokenRequest, ca.CreateEnrolmentTokenResponse>(
      this.client.createEnrolmentToken.bind(this.client),
      ca.CreateEnrolmentTokenRequest.fromPartial({ kind: ca.EnrolmentTokenKind.ENROLMENT_TOKEN_KIND_ONE_TIME, label, ttl: { seconds: 3600, nanos: 0 } }),
    );
    return res.secret;
  }

  close(): void {
    clearInterval(this.timer);
    this.client.close();
  }
}

function issued(clientId: string, cert: ca.Certificate | undefined, chainPem: string, bundlePem: string): IssuedEndpointCertificate {
  if (!cert?.notAfter) throw new Error('the CA answered without a certificate');
  return { clientId, certificateChainPem: chainPem, trustBundlePem: bundlePem, serial: normaliseSerial(cert.serial), notAfter: cert.notAfter };
}
