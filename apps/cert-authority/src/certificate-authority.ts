// The certificate authority: issues, renews and revokes certificates (SPEC 1.1.2, 1.4.5, 1.4.6).
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { FailedPrecondition, InvalidArgument, NotFound } from '@dc/service-kit';
import forge from 'node-forge';
import { type Clock, DAY_MS, systemClock } from './clock';
import { checkEndpointCsrNames, parseAndVerifyCsr } from './csr/csr';
import { type CreatedToken, type CreateTokenRequest, EnrolmentTokens } from './enrolment-tokens/enrolment-tokens';
import { collectAltNames, parseHost, parseIp, parseSerial, parseServiceName, parseZoneProxyName } from './issuance/names';
import {
  type CertificateKind,
  DEFAULT_VALIDITY,
  identityUri,
  ORGANIZATION,
  PROFILES,
  validityDaysFor,
  validityWindow,
  type ValidityConfig,
} from './issuance/profiles';
import { forgePublicKey, issueCertificate, randomSerialHex, type SubjectAltNames } from './issuance/x509';
import { buildCrl } from './revocation/crl';
import { type LoadedRoot, RootKeyring } from './root-ca/root-keyring';
import {
  CaStore,
  type CertificateRecord,
  type EnrolmentTokenRecord,
  REVOCATION_REASONS,
  type RevocationEntry,
  type RevocationReason,
  type RootRecord,
} from './store/ca-store';

export interface CertificateAuthorityOptions {
  /** Directory for ca.db and keys/ (created if missing). */
  readonly dataDir: string;
  readonly clock?: Clock;
  readonly validity?: Partial<ValidityConfig>;
  /** How long a CRL is valid after it is produced; consumers re-fetch well before. */
  readonly crlValidityDays?: number;
}

/** A certificate whose key pair the CA generated; the private key is returned once and not kept. */
export interface IssuedWithKey {
  readonly certificate: CertificateRecord;
  readonly privateKeyPem: string;
}

export interface EndpointEnrolment {
  readonly certificate: CertificateRecord;
  /** The endpoint id the CA put in the certificate (from the token, or freshly assigned). */
  readonly endpointId: string;
}

export interface RenewedCertificate {
  readonly certificate: CertificateRecord;
  /** Set when the CA generated a new key pair (every kind but endpoint). */
  readonly privateKeyPem?: string;
}

export interface RevocationList {
  /** Increases by one with every revocation; consumers refetch when it changes. */
  readonly generation: number;
  readonly entries: readonly RevocationEntry[];
  /** One signed X.509 CRL per trusted root (OpenSSL needs one for each issuer it checks). */
  readonly crls: ReadonlyArray<{ readonly rootId: string; readonly pem: string }>;
}

export interface ListCertificatesRequest {
  readonly kinds?: readonly CertificateKind[];
  readonly subjectName?: string;
  readonly includeExpired?: boolean;
  readonly includeRevoked?: boolean;
  readonly pageSize?: number;
  readonly pageToken?: string;
}

export const MAX_PAGE_SIZE = 1000;
const DEFAULT_PAGE_SIZE = 100;
const MAX_VALIDITY_DAYS = 3650;

export class CertificateAuthority {
  readonly tokens: EnrolmentTokens;
  private readonly clock: Clock;
  private readonly validity: ValidityConfig;
  private readonly crlValidityMs: number;

  private constructor(
    private readonly store: CaStore,
    private readonly roots: RootKeyring,
    opts: CertificateAuthorityOptions,
  ) {
    this.clock = opts.clock ?? systemClock;
    this.validity = { ...DEFAULT_VALIDITY, ...opts.validity };
    this.crlValidityMs = (opts.crlValidityDays ?? 7) * DAY_MS;
    this.tokens = new EnrolmentTokens(store, this.clock);
  }

  /** Opens ca.db and the root keys in dataDir; on first start creates the root CA. */
  static open(opts: CertificateAuthorityOptions): CertificateAuthority {
    mkdirSync(opts.dataDir, { recursive: true, mode: 0o700 });
    const store = new CaStore(join(opts.dataDir, 'ca.db'));
    try {
      const roots = RootKeyring.open({
        store,
        keysDir: join(opts.dataDir, 'keys'),
        clock: opts.clock ?? systemClock,
        validity: { ...DEFAULT_VALIDITY, ...opts.validity },
      });
      return new CertificateAuthority(store, roots, opts);
    } catch (err) {
      store.close();
      throw err;
    }
  }

  close(): void {
    this.store.close();
  }

  // --- issuing with a key pair the CA generates

  /** The Module Server's server certificate (SPEC 1.4.5): SANs are the FQDN and any IPs. */
  issueModuleServerCertificate(req: { fqdn: string; ipAddresses?: readonly string[]; validityDays?: number }): IssuedWithKey {
    const host = parseHost('fqdn', req.fqdn);
    const ips = (req.ipAddresses ?? []).map((ip, i) => ({ ipAddress: parseIp(`ip_addresses[${i}]`, ip) }));
    const names = collectAltNames([host, ...ips]);
    return this.issueWithNewKey({
      kind: 'module-server',
      commonName: host.dnsName ?? host.ipAddress!,
      subjectName: '',
      altNames: { ...names, uris: [] },
      validityDays: this.checkValidityDays(req.validityDays),
    });
  }

  /**
   * A zone proxy's two certificates (SPEC 1.4.6): endpoint-facing (:17486, named by the Endpoint
   * Target Hostname) and link-facing (:17487, named by the Module Server Target Hostname).
   */
  issueZoneProxyCertificates(req: {
    zoneProxyName: string;
    endpointTargetHostname: string;
    endpointInboundIpAddress?: string;
    moduleServerTargetHostname: string;
    moduleServerInboundIpAddress?: string;
    validityDays?: number;
  }): { endpointFacing: IssuedWithKey; linkFacing: IssuedWithKey } {
    const name = parseZoneProxyName('zone_proxy_name', req.zoneProxyName);
    const endpointHost = parseHost('endpoint_target_hostname', req.endpointTargetHostname);
    const linkHost = parseHost('module_server_target_hostname', req.moduleServerTargetHostname);
    const endpointIp = req.endpointInboundIpAddress ? [{ ipAddress: parseIp('endpoint_inbound_ip_address', req.endpointInboundIpAddress) }] : [];
    const linkIp = req.moduleServerInboundIpAddress ? [{ ipAddress: parseIp('module_server_inbound_ip_address', req.moduleServerInboundIpAddress) }] : [];
    const validityDays = this.checkValidityDays(req.validityDays);
    const uri = identityUri.zoneProxy(encodeURIComponent(name));
    const endpointFacing = this.issueWithNewKey({
      kind: 'zone-proxy-endpoint',
      commonName: endpointHost.dnsName ?? endpointHost.ipAddress!,
      subjectName: name,
      altNames: { ...collectAltNames([endpointHost, ...endpointIp]), uris: [uri] },
      validityDays,
    });
    const linkFacing = this.issueWithNewKey({
      kind: 'zone-proxy-link',
      commonName: linkHost.dnsName ?? linkHost.ipAddress!,
      subjectName: name,
      altNames: { ...collectAltNames([linkHost, ...linkIp]), uris: [uri] },
      validityDays,
    });
    return { endpointFacing, linkFacing };
  }

  /** A service identity (`dc://service/<name>`) for service-to-service mutual TLS. */
  issueServiceIdentity(req: { serviceName: string; hosts?: readonly string[]; validityDays?: number }): IssuedWithKey {
    const serviceName = parseServiceName('service_name', req.serviceName);
    const hosts = (req.hosts ?? []).map((h, i) => parseHost(`hosts[${i}]`, h));
    return this.issueWithNewKey({
      kind: 'service',
      commonName: serviceName,
      subjectName: serviceName,
      altNames: { ...collectAltNames(hosts), uris: [identityUri.service(serviceName)] },
      validityDays: this.checkValidityDays(req.validityDays),
    });
  }

  // --- endpoint enrolment

  createEnrolmentToken(req: CreateTokenRequest): CreatedToken {
    return this.tokens.create(req);
  }

  listEnrolmentTokens(): EnrolmentTokenRecord[] {
    return this.tokens.list();
  }

  revokeEnrolmentToken(id: string): EnrolmentTokenRecord {
    return this.tokens.revoke(id);
  }

  /**
   * Signs an endpoint's CSR presented with an enrolment token. The endpoint id in the
   * certificate comes from the token (or is assigned by the CA), never from the CSR; the
   * private key stays on the endpoint. Nothing changes unless a certificate is issued.
   */
  signEndpointCsr(req: { csrPem: string; enrolmentToken: string }): EndpointEnrolment {
    const csr = parseAndVerifyCsr(req.csrPem);
    const token = this.tokens.check(req.enrolmentToken);
    const endpointId = token.endpointId ?? randomUUID();
    checkEndpointCsrNames(csr, endpointId, token.endpointId === undefined);
    const prepared = this.prepare({
      kind: 'endpoint',
      commonName: endpointId,
      subjectName: endpointId,
      altNames: { dnsNames: [], ipAddresses: [], uris: [identityUri.endpoint(endpointId)] },
      validityDays: this.validity.endpointDays,
      publicKey: csr.publicKey,
      enrolmentTokenId: token.id,
    });
    this.store.transaction(() => {
      this.tokens.redeem(req.enrolmentToken);
      this.store.insertCertificate(prepared);
    });
    return { certificate: prepared, endpointId };
  }

  // --- reading

  getCertificate(serial: string): CertificateRecord {
    const hex = parseSerial('serial', serial);
    const found = this.store.getCertificate(hex);
    if (!found) throw new NotFound(`certificate with serial ${hex} is not known to this CA`);
    return found;
  }

  /** Certificates in issue order with their expiry (SPEC 1.4.5); by default current ones only. */
  listCertificates(req: ListCertificatesRequest = {}): { certificates: CertificateRecord[]; nextPageToken: string } {
    const pageSize = req.pageSize || DEFAULT_PAGE_SIZE;
    if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > MAX_PAGE_SIZE) {
      throw new InvalidArgument('page_size', `must be a whole number from 1 to ${MAX_PAGE_SIZE}`, req.pageSize);
    }
    const rows = this.store.listCertificates({
      kinds: req.kinds,
      subjectName: req.subjectName || undefined,
      excludeExpiredAt: req.includeExpired ? undefined : this.clock(),
      excludeRevoked: !req.includeRevoked,
      after: req.pageToken ? decodePageToken(req.pageToken) : undefined,
      limit: pageSize + 1,
    });
    const page = rows.slice(0, pageSize);
    const last = page[page.length - 1];
    const nextPageToken = rows.length > pageSize && last ? encodePageToken(last) : '';
    return { certificates: page, nextPageToken };
  }

  // --- renewal and revocation

  /**
   * Issues a successor with the same names and kind from the current issuing root. The old
   * certificate is not revoked: both are valid during the overlap, so nothing connected drops.
   * CA-generated kinds get a new key pair; an endpoint keeps its key (or proves a new one by CSR).
   */
  renewCertificate(req: { serial: string; csrPem?: string; validityDays?: number }): RenewedCertificate {
    const old = this.getCertificate(req.serial);
    if (old.revocation) {
      throw new FailedPrecondition(`certificate ${old.serial} was revoked at ${old.revocation.revokedAt.toISOString()}; issue a new one instead of renewing`);
    }
    const validityDays = req.validityDays === undefined || req.validityDays === 0 ? validityDaysFor(old.kind, this.validity) : this.checkValidityDays(req.validityDays);
    const base = { kind: old.kind, commonName: old.commonName, subjectName: old.subjectName, altNames: old.altNames, validityDays, renewedFrom: old.serial };
    if (old.kind === 'endpoint') {
      let publicKey: forge.pki.rsa.PublicKey;
      if (req.csrPem) {
        const csr = parseAndVerifyCsr(req.csrPem);
        checkEndpointCsrNames(csr, old.subjectName, false);
        publicKey = csr.publicKey;
      } else {
        publicKey = forge.pki.certificateFromPem(old.certificatePem).publicKey as forge.pki.rsa.PublicKey;
      }
      const prepared = this.prepare({ ...base, publicKey });
      this.store.insertCertificate(prepared);
      return { certificate: prepared };
    }
    if (req.csrPem) throw new InvalidArgument('csr_pem', `only endpoint certificates are renewed from a CSR; a ${old.kind} certificate gets a new key from the CA`);
    return this.issueWithNewKey(base);
  }

  /** Revokes a certificate; the revocation list's generation increases and its CRL lists the serial. */
  revokeCertificate(req: { serial: string; reason?: RevocationReason }): { certificate: CertificateRecord; generation: number } {
    const reason = req.reason ?? 'unspecified';
    if (!REVOCATION_REASONS.includes(reason)) throw new InvalidArgument('reason', `must be one of ${REVOCATION_REASONS.join(', ')}`, reason);
    const hex = parseSerial('serial', req.serial);
    return this.store.transaction(() => {
      const cert = this.store.getCertificate(hex);
      if (!cert) throw new NotFound(`certificate with serial ${hex} is not known to this CA`);
      if (cert.revocation) {
        throw new FailedPrecondition(`certificate ${hex} was revoked already at ${cert.revocation.revokedAt.toISOString()} (generation ${cert.revocation.generation})`);
      }
      const generation = this.store.insertRevocation(hex, reason, this.clock());
      return { certificate: this.store.getCertificate(hex)!, generation };
    });
  }

  /** What the broker and zone proxies enforce on the next handshake. */
  revocationList(): RevocationList {
    const entries = this.store.listRevocations();
    const generation = this.store.revocationGeneration();
    const now = this.clock();
    const crls = this.roots.trustBundle().roots.map((record) => {
      const root = this.roots.get(record.id)!;
      const pem = buildCrl({
        issuerAttributes: root.signer.subjectAttributes,
        issuerKeyId: root.signer.subjectKeyId!,
        issuerKey: root.signer.privateKey,
        crlNumber: generation,
        thisUpdate: new Date(Math.floor(now.getTime() / 1000) * 1000),
        nextUpdate: new Date(Math.floor(now.getTime() / 1000) * 1000 + this.crlValidityMs),
        entries: entries.filter((e) => e.issuerRootId === record.id).map((e) => ({ serialHex: e.serial, revokedAt: e.revokedAt, reason: e.reason })),
      }).pem;
      return { rootId: record.id, pem };
    });
    return { generation, entries, crls };
  }

  // --- roots

  trustBundle(): { roots: RootRecord[]; pem: string } {
    return this.roots.trustBundle();
  }

  /** Starts a root rotation: a new root issues from now on; the old one stays in the trust bundle. */
  rotateRoot(): RootRecord {
    return this.roots.rotate().record;
  }

  /** Ends a rotation: the old root leaves the trust bundle (renew what it issued first). */
  retireRoot(id: string): RootRecord {
    return this.roots.retire(id);
  }

  activeRoot(): LoadedRoot {
    return this.roots.active();
  }

  // --- internals

  private issueWithNewKey(spec: IssueSpec): IssuedWithKey {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const prepared = this.prepare({ ...spec, publicKey: forgePublicKey(publicKey) });
    this.store.insertCertificate(prepared);
    return { certificate: prepared, privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
  }

  /** Builds and signs a certificate (no writes). */
  private prepare(spec: IssueSpec & { publicKey: forge.pki.rsa.PublicKey }): Omit<CertificateRecord, 'revocation'> {
    const root = this.roots.active();
    const now = this.clock();
    const days = spec.validityDays ?? validityDaysFor(spec.kind, this.validity);
    const window = validityWindow(now, days, this.validity.backdateSeconds);
    // A leaf never outlives its root: a verifier would refuse the chain after the root expires.
    const notAfter = window.notAfter > root.record.notAfter ? root.record.notAfter : window.notAfter;
    const serial = randomSerialHex();
    const profile = PROFILES[spec.kind];
    const built = issueCertificate(
      {
        serialHex: serial,
        subject: { commonName: spec.commonName, organization: ORGANIZATION, organizationalUnit: profile.organizationalUnit },
        altNames: spec.altNames,
        notBefore: window.notBefore,
        notAfter,
        publicKey: spec.publicKey,
        role: { ca: false, purpose: profile.purpose },
      },
      root.signer,
    );
    return {
      serial,
      kind: spec.kind,
      commonName: spec.commonName,
      subjectName: spec.subjectName,
      altNames: spec.altNames,
      purpose: profile.purpose,
      issuerRootId: root.record.id,
      notBefore: window.notBefore,
      notAfter,
      issuedAt: now,
      certificatePem: built.pem,
      ...(spec.renewedFrom ? { renewedFrom: spec.renewedFrom } : {}),
      ...(spec.enrolmentTokenId ? { enrolmentTokenId: spec.enrolmentTokenId } : {}),
    };
  }

  private checkValidityDays(days: number | undefined): number | undefined {
    if (days === undefined || days === 0) return undefined;
    if (!Number.isInteger(days) || days < 1 || days > MAX_VALIDITY_DAYS) {
      throw new InvalidArgument('validity_days', `must be a whole number of days from 1 to ${MAX_VALIDITY_DAYS} (0 or unset: the default for the kind)`, days);
    }
    return days;
  }
}

interface IssueSpec {
  readonly kind: CertificateKind;
  readonly commonName: string;
  readonly subjectName: string;
  readonly altNames: SubjectAltNames;
  /** undefined: the default for the kind. */
  readonly validityDays: number | undefined;
  readonly renewedFrom?: string;
  readonly enrolmentTokenId?: string;
}

function encodePageToken(last: CertificateRecord): string {
  return Buffer.from(JSON.stringify([last.issuedAt.getTime(), last.serial])).toString('base64url');
}

function decodePageToken(token: string): { issuedAt: number; serial: string } {
  try {
    const [issuedAt, serial] = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as [unknown, unknown];
    if (typeof issuedAt === 'number' && typeof serial === 'string') return { issuedAt, serial };
  } catch {
    // fall through
  }
  throw new InvalidArgument('page_token', 'is not a page token this CA handed out; pass next_page_token from the previous page', token);
}
