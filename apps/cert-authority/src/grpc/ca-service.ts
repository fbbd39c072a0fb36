// The dc.ca.v1 CertificateAuthorityService adapter: authorise, translate, call the domain, translate back.
import type { handleUnaryCall, sendUnaryData, ServerUnaryCall, ServiceError } from '@grpc/grpc-js';
import { FailedPrecondition, InvalidArgument, toServiceError } from '@dc/service-kit';
import { caV1 } from '@dc/proto';
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import type { CertificateAuthority } from '../certificate-authority';
import { ANONYMOUS, type Caller, type CallerAuth, Permission } from './caller-auth';
import { certificateToProto, durationMs, kindFromPurpose, reasonFromProto, reasonToProto, rootToProto, tokenToProto } from './mapping';

const SERVICE = '/dc.ca.v1.CertificateAuthorityService';
const { PERMISSION_CRON_EXEC: CRON_EXEC, PERMISSION_SETTINGS_READ: SETTINGS_READ, PERMISSION_SETTINGS_WRITE: SETTINGS_WRITE } = Permission;

export interface CaServiceOptions {
  readonly ca: CertificateAuthority;
  readonly auth: CallerAuth;
  readonly log: Logger;
  /** Called after a root rotation, to reload the TLS trust and rewrite trust-bundle.pem. */
  readonly onTrustBundleChanged?: () => void;
  readonly metrics?: CaMetrics;
}

export interface CaMetrics {
  readonly requests: Counter<'method' | 'code'>;
  readonly issued: Counter<'kind'>;
}

/** dc_ca_requests_total{method,code} and dc_ca_certificates_issued_total{kind}. */
export function caMetrics(registry: Registry): CaMetrics {
  return {
    requests: new Counter({ name: 'dc_ca_requests_total', help: 'CA rpcs by method and gRPC status code', labelNames: ['method', 'code'], registers: [registry] }),
    issued: new Counter({ name: 'dc_ca_certificates_issued_total', help: 'Certificates issued (including renewals) by kind', labelNames: ['kind'], registers: [registry] }),
  };
}

export function createCaService(opts: CaServiceOptions): caV1.CertificateAuthorityServiceServer {
  const { ca, auth, log } = opts;

  /** One handler: public or authorised, errors mapped in one place (toServiceError). */
  function unary<Req, Res>(name: string, permission: Permission | 'public', fn: (req: Req, caller: Caller) => Res): handleUnaryCall<Req, Res> {
    const method = `${SERVICE}/${name}`;
    return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => {
      void (async () => {
        try {
          const caller = permission === 'public' ? ANONYMOUS : await auth.authorise(call, permission, method);
          const response = fn(call.request, caller);
          opts.metrics?.requests.inc({ method: name, code: 'OK' });
          callback(null, response);
        } catch (err) {
          const mapped = toServiceError(err, log);
          log.debug({ method, code: mapped.code, err: mapped.details }, 'request refused');
          opts.metrics?.requests.inc({ method: name, code: String(mapped.code) });
          callback(mapped as ServiceError, null);
        }
      })();
    };
  }

  const rootSerial = (() => {
    const cache = new Map<string, string>();
    return (rootId: string) => {
      if (!cache.has(rootId)) for (const r of ca.allRoots()) cache.set(r.id, r.serial);
      return cache.get(rootId) ?? '';
    };
  })();
  const toProto = (c: Parameters<typeof certificateToProto>[0]) => certificateToProto(c, rootSerial);
  const bundlePem = () => ca.trustBundle().pem;
  const audit = (caller: Caller, event: string, fields: Record<string, unknown>) => {
    log.info({ caller: `${caller.kind}:${caller.name}`, ...fields }, event);
    if (typeof fields.kind === 'string') opts.metrics?.issued.inc({ kind: fields.kind });
  };

  return {
    issueCertificate: unary<caV1.IssueCertificateRequest, caV1.IssueCertificateResponse>('IssueCertificate', CRON_EXEC, (req, caller) => {
      const issued = ca.issueCertificate({
        kind: kindFromPurpose(req.purpose),
        commonName: req.commonName,
        dnsNames: req.dnsNames,
        ipAddresses: req.ipAddresses,
        validityMs: durationMs('validity', req.validity),
        csrPem: req.csrPem || undefined,
        label: req.label,
      });
      const c = issued.certificate;
      audit(caller, 'certificate issued', { serial: c.serial, kind: c.kind, commonName: c.commonName, notAfter: c.notAfter });
      return {
        certificate: toProto(c),
        certificateChainPem: c.certificatePem,
        privateKeyPem: issued.privateKeyPem ?? '',
        trustBundlePem: bundlePem(),
      };
    }),

    signCsr: unary<caV1.SignCsrRequest, caV1.SignCsrResponse>('SignCsr', CRON_EXEC, (req, caller) => {
      const { certificate, endpointId } = ca.signEndpointCsr({
        csrPem: req.csrPem,
        enrolmentToken: req.enrolmentToken,
        hostName: req.hostName,
        validityMs: durationMs('validity', req.validity),
      });
      audit(caller, 'endpoint enrolled', { serial: certificate.serial, kind: certificate.kind, clientId: endpointId, hostName: req.hostName, tokenId: certificate.enrolmentTokenId });
      return { clientId: endpointId, certificate: toProto(certificate), certificateChainPem: certificate.certificatePem, trustBundlePem: bundlePem() };
    }),

    createEnrolmentToken: unary<caV1.CreateEnrolmentTokenRequest, caV1.CreateEnrolmentTokenResponse>('CreateEnrolmentToken', CRON_EXEC, (req, caller) => {
      const K = caV1.EnrolmentTokenKind;
      const kind =
        req.kind === K.ENROLMENT_TOKEN_KIND_ONE_TIME ? 'one-time' : req.kind === K.ENROLMENT_TOKEN_KIND_TIME_LIMITED ? 'time-limited' : undefined;
      if (!kind) throw new InvalidArgument('kind', 'must be ONE_TIME or TIME_LIMITED', req.kind);
      const { token, record } = ca.createEnrolmentToken({
        kind,
        label: req.label,
        ttlMs: durationMs('ttl', req.ttl),
        maxUses: req.maxUses,
        endpointId: req.clientId || undefined,
      });
      audit(caller, 'enrolment token created', { tokenId: record.id, kind, maxUses: record.maxUses, expiresAt: record.expiresAt });
      return { token: tokenToProto(record), secret: token };
    }),

    listEnrolmentTokens: unary<caV1.ListEnrolmentTokensRequest, caV1.ListEnrolmentTokensResponse>('ListEnrolmentTokens', SETTINGS_READ, (req) => {
      const page = ca.listEnrolmentTokens({ includeInactive: req.includeInactive, pageSize: req.pageSize, pageToken: req.pageToken || undefined });
      return { tokens: page.tokens.map(tokenToProto), nextPageToken: page.nextPageToken };
    }),

    revokeEnrolmentToken: unary<caV1.RevokeEnrolmentTokenRequest, caV1.RevokeEnrolmentTokenResponse>('RevokeEnrolmentToken', SETTINGS_WRITE, (req, caller) => {
      const record = ca.revokeEnrolmentToken(req.tokenId);
      audit(caller, 'enrolment token revoked', { tokenId: record.id });
      return { token: tokenToProto(record) };
    }),

    renewCertificate: unary<caV1.RenewCertificateRequest, caV1.RenewCertificateResponse>('RenewCertificate', CRON_EXEC, (req, caller) => {
      const renewed = ca.renewCertificate({
        serial: req.serial,
        validityMs: durationMs('validity', req.validity),
        csrPem: req.csrPem || undefined,
        generateKey: req.generateKey,
        revokePrevious: req.revokePrevious,
      });
      const c = renewed.certificate;
      audit(caller, 'certificate renewed', { serial: c.serial, kind: c.kind, renewedFrom: c.renewedFrom, notAfter: c.notAfter, revokedPrevious: req.revokePrevious });
      return { certificate: toProto(c), certificateChainPem: c.certificatePem, privateKeyPem: renewed.privateKeyPem ?? '', trustBundlePem: bundlePem() };
    }),

    revokeCertificate: unary<caV1.RevokeCertificateRequest, caV1.RevokeCertificateResponse>('RevokeCertificate', SETTINGS_WRITE, (req, caller) => {
      const { certificate, generation } = ca.revokeCertificate({ serial: req.serial, reason: reasonFromProto(req.reason) });
      audit(caller, 'certificate revoked', { serial: certificate.serial, reason: certificate.revocation?.reason, detail: req.detail, generation });
      return { certificate: toProto(certificate), revocationListVersion: generation };
    }),

    listCertificates: unary<caV1.ListCertificatesRequest, caV1.ListCertificatesResponse>('ListCertificates', SETTINGS_READ, (req) => {
      const page = ca.listCertificates({
        kinds: req.purpose === caV1.CertificatePurpose.CERTIFICATE_PURPOSE_UNSPECIFIED ? undefined : [kindFromPurpose(req.purpose)],
        subjectName: req.clientId || undefined,
        includeExpired: req.includeExpired,
        includeRevoked: req.includeRevoked,
        expiringBefore: req.expiringBefore,
        pageSize: req.pageSize,
        pageToken: req.pageToken || undefined,
      });
      return { certificates: page.certificates.map(toProto), nextPageToken: page.nextPageToken };
    }),

    getCertificate: unary<caV1.GetCertificateRequest, caV1.GetCertificateResponse>('GetCertificate', SETTINGS_READ, (req) => ({
      certificate: toProto(ca.getCertificate(req.serial)),
    })),

    getRevocationList: unary<caV1.GetRevocationListRequest, caV1.GetRevocationListResponse>('GetRevocationList', 'public', (req) => {
      const generation = ca.revocationGeneration();
      if (req.knownVersion !== 0 && req.knownVersion === generation) {
        return { version: generation, unchanged: true, entries: [], issueTime: undefined, crlPem: '', crlPems: [] };
      }
      const list = ca.revocationList();
      return {
        version: list.generation,
        unchanged: false,
        entries: list.entries.map((e) => ({ serial: e.serial, revokeTime: e.revokedAt, reason: reasonToProto(e.reason) })),
        issueTime: list.issuedAt,
        crlPem: list.crls.map((c) => c.pem).join(''),
        crlPems: list.crls.map((c) => c.pem),
      };
    }),

    getTrustBundle: unary<caV1.GetTrustBundleRequest, caV1.GetTrustBundleResponse>('GetTrustBundle', 'public', () => {
      const bundle = ca.trustBundle();
      const activeId = ca.activeRoot().record.id;
      return { trustBundlePem: bundle.pem, roots: bundle.roots.map((r) => rootToProto(r, activeId)), version: bundle.version };
    }),

    rotateRoot: unary<caV1.RotateRootRequest, caV1.RotateRootResponse>('RotateRoot', SETTINGS_WRITE, (req, caller) => {
      if (!req.confirm) throw new FailedPrecondition('RotateRoot changes what every endpoint must trust: set confirm to true to rotate the root');
      const validityMs = durationMs('validity', req.validity);
      if (validityMs !== undefined && validityMs % 86_400_000 !== 0) {
        throw new InvalidArgument('validity', 'must be a whole number of days', `${validityMs / 1000}s`);
      }
      const root = ca.rotateRoot({ overlapMs: durationMs('overlap', req.overlap), validityDays: validityMs === undefined ? undefined : validityMs / 86_400_000 });
      opts.onTrustBundleChanged?.();
      const bundle = ca.trustBundle();
      audit(caller, 'root rotated', { rootSerial: root.serial, version: bundle.version });
      return { root: rootToProto(root, root.id), trustBundlePem: bundle.pem, version: bundle.version };
    }),
  };
}
