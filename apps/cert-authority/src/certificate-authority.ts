// The certificate authority: issues, renews and revokes certificates (SPEC 1.1.2, 1.4.5, 1.4.6).
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { FailedPrecondition, InvalidArgument, NotFound } from '@dc/service-kit';
import forge from 'node-forge';
import { type Clock, DAY_MS, systemClock } from './clock';
import { checkEndpointCsrNames, parseAndVerifyCsr } from './csr/csr';
import { checkPageSize, type CreatedToken, type CreateTokenRequest, EnrolmentTokens } from './enrolment-tokens/enrolment-tokens';
import { collectAltNames, parseHost, parseIp, parseSerial, parseServiceName, parseZoneProxyName } from './issuance/names';
import {
  type CertificateKind,
  CERTIFICATE_KINDS,
  DEFAULT_VALIDITY,
  identityUri,
  ORGANIZATION,
  PROFILES,
  validityDaysFor,
  validityWindowMs,
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

/** Limits from dc.ca.v1: IssueCertificate at most 825 days, SignCsr at most 397 days. */
export const VALIDITY_LIMITS = { minMs: 60_000, issueMaxMs: 825 * DAY_MS, endpointMaxMs: 397 * DAY_MS };
/** dc.ca.v1 RotateRootRequest: the old root stays trusted 30 days by default, at least 1 day. */
export const ROTATION = { defaultOverlapMs: 30 * DAY_MS, minOverlapMs: DAY_MS };

export interface IssueRequest {
  readonly kind: CertificateKind;
  readonly commonName: string;
  readonly dnsNames?: readonly string[];
  readonly ipAddresses?: readonly string[];
  /** Unset: the kind's default. */
  readonly validityMs?: number;
  /** Use this CSR's public key (signature verified; its subject and SANs are ignored). */
  readonly csrPem?: string;
  /** Free label stored with the certificate; for zone proxy kinds, the zone proxy's name. */
  readonly label?: string;
}

/** A certificate; privateKeyPem is set when the CA generated the key (returned once, never kept). */
export interface IssuedCertificate {
  readonly certificate: CertificateRecord;
  readonly privateKeyPem?: string;
}

export interface EndpointEnrolment {
  readonly certificate: CertificateRecord;
  /** The endpoint (client) id the CA put in the certificate: the token's, or freshly assigned. */
  readonly endpointId: string;
}

export interface RenewRequest {
  readonly serial: string;
  readonly validityMs?: number;
  /** A new key proven by CSR; otherwise the old public key is kept unless generateKey. */
  readonly csrPem?: string;
  readonly generateKey?: boolean;
  /** Revoke the old certificate (reason superseded) instead of letting both overlap. */
  readonly revokePrevious?: boolean;
}

export interface RevocationList {
  /** Increases by one with every revocation; consumers refetch when it changes. */
  readonly generation: number;
  /** Revoked certificates that have not expired yet. */
  readonly entries: readonly RevocationEntry[];
  /** One signed X.509 CRL per trusted root (OpenSSL needs one for each issuer it checks). */
  readonly crls: ReadonlyArray<{ readonly rootId: string; readonly pem: string }>;
  readonly issuedAt: Date;
}

export interface ListCertificatesRequest {
  readonly kinds?: readonly CertificateKind[];
  /** Only certificates of this endpoint (client id) / service / zone proxy. */
  readonly subjectName?: string;
  readonly includeExpired?: boolean;
  readonly includeRevoked?: boolean;
  readonly expiringBefore?: Date;
  readonly pageSize?: number;
  readonly pageToken?: string;
}

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

  // --- issuing

  /**
   * Issues a server, client, zone proxy or service certificate. Server and zone proxy kinds need
   * a name to be verified by: without dns_names/ip_addresses, the common name (a host or IP)
   * becomes the SAN.
   */
  issueCertificate(req: IssueRequest): IssuedCertificate {
    if (!CERTIFICATE_KINDS.includes(req.kind) || req.kind === 'endpoint') {
      throw new InvalidArgument('purpose', 'must be SERVER, CLIENT, ZONE_PROXY_ENDPOINT_FACING, ZONE_PROXY_LINK_FACING or SERVICE (endpoint certificates come from SignCsr)', req.kind);
    }
    const commonName = checkCommonName(req.commonName);
    const hosts = (req.dnsNames ?? []).map((h, i) => {
      const host = parseHost(`dns_names[${i}]`, h);
      if (!host.dnsName) throw new InvalidArgument(`dns_names[${i}]`, 'is an IP address; put it in ip_addresses', h);
      return host;
    });
    const ips = (req.ipAddresses ?? []).map((ip, i) => ({ ipAddress: parseIp(`ip_addresses[${i}]`, ip) }));
    let names = collectAltNames([...hosts, ...ips]);
    // A service is named by its URI SAN; other server kinds are verified by host name or IP.
    const namedByHost = PROFILES[req.kind].purpose !== 'client' && req.kind !== 'service';
    if (namedByHost && names.dnsNames.length === 0 && names.ipAddresses.length === 0) {
      names = collectAltNames([parseHost('common_name', commonName)]);
    }
    const label = req.label ?? '';
    if (label.length > 200) throw new InvalidArgument('label', 'must be at most 200 characters', label);
    let subjectName = commonName;
    const uris: string[] = [];
    if (req.kind === 'service') {
      subjectName = parseServiceName('common_name', commonName);
      uris.push(identityUri.service(subjectName));
    } else if (req.kind === 'zone-proxy-endpoint' || req.kind === 'zone-proxy-link') {
      subjectName = parseZoneProxyName('label', label);
      uris.push(identityUri.zoneProxy(subjectName));
    }
    const validityMs = this.checkValidity('validity', req.validityMs, VALIDITY_LIMITS.issueMaxMs);
    const spec = { kind: req.kind, commonName, subjectName, label, altNames: { ...names, uris }, validityMs };
    if (req.csrPem) {
      const csr = parseAndVerifyCsr(req.csrPem);
      const prepared = this.prepare({ ...spec, publicKey: csr.publicKey });
      this.store.insertCertificate(prepared);
      return { certificate: prepared };
    }
    return this.issueWithNewKey(spec);
  }

  // --- endpoint enrolment

  createEnrolmentToken(req: CreateTokenRequest): CreatedToken {
    return this.tokens.create(req);
  }

  listEnrolmentTokens(req: { includeInactive?: boolean; pageSize?: number; pageToken?: string } = {}) {
    return this.tokens.list(req);
  }

  revokeEnrolmentToken(id: string): EnrolmentTokenRecord {
    return this.tokens.revoke(id);
  }

  /**
   * Signs an endpoint's CSR presented with an enrolment token. The endpoint id in the
   * certificate comes from the token (or is assigned by the CA), never from the CSR; the
   * private key stays on the endpoint. Nothing changes unless a certificate is issued.
   */
  signEndpointCsr(req: { csrPem: string; enrolmentToken: string; hostName?: string; validityMs?: number }): EndpointEnrolment {
    const csr = parseAndVerifyCsr(req.csrPem);
    const token = this.tokens.check(req.enrolmentToken);
    const validityMs = this.checkValidity('validity', req.validityMs, VALIDITY_LIMITS.endpointMaxMs);
    const hostName = req.hostName ?? '';
    if (hostName.length > 253) throw new InvalidArgument('host_name', 'must be at most 253 characters', hostName);
    const endpointId = token.endpointId ?? randomUUID();
    checkEndpointCsrNames(csr, endpointId, token.endpointId === undefined);
    const prepared = this.prepare({
      kind: 'endpoint',
      commonName: endpointId,
      subjectName: endpointId,
      label: hostName,
      altNames: { dnsNames: [], ipAddresses: [], uris: [identityUri.endpoint(endpointId)] },
      validityMs,
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

  /** Certificates newest first with their expiry (SPEC 1.4.5); by default current ones only. */
  listCertificates(req: ListCertificatesRequest = {}): { certificates: CertificateRecord[]; nextPageToken: string } {
    const pageSize = checkPageSize(req.pageSize);
    const rows = this.store.listCertificates({
      kinds: req.kinds,
      subjectName: req.subjectName || undefined,
      excludeExpiredAt: req.includeExpired ? undefined : this.clock(),
      excludeRevoked: !req.includeRevoked,
      expiringBefore: req.expiringBefore,
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
   * Issues a successor with the same kind, subject and SANs from the current issuing root. The
   * old certificate stays valid until it expires (unless revokePrevious): both are valid during
   * the overlap, so nothing connected drops. Keeps the public key unless a CSR proves a new one
   * or generateKey asks the CA for one (never for endpoints: their key never leaves them).
   */
  renewCertificate(req: RenewRequest): IssuedCertificate {
    const old = this.getCertificate(req.serial);
    if (old.revocation) {
      throw new FailedPrecondition(`certificate ${old.serial} was revoked at ${old.revocation.revokedAt.toISOString()}; issue a new one instead of renewing`);
    }
    const limit = old.kind === 'endpoint' ? VALIDITY_LIMITS.endpointMaxMs : VALIDITY_LIMITS.issueMaxMs;
    const validityMs = this.checkValidity('validity', req.validityMs, limit);
    const base = {
      kind: old.kind,
      commonName: old.commonName,
      subjectName: old.subjectName,
      label: old.label,
      altNames: old.altNames,
      validityMs,
      renewedFrom: old.serial,
    };
    let publicKey: forge.pki.rsa.PublicKey | undefined;
    if (req.csrPem) {
      const csr = parseAndVerifyCsr(req.csrPem);
      if (old.kind === 'endpoint') checkEndpointCsrNames(csr, old.subjectName, false);
      publicKey = csr.publicKey;
    } else if (req.generateKey) {
      if (old.kind === 'endpoint') {
        throw new InvalidArgument('generate_key', "an endpoint's private key never leaves the endpoint: renew with its CSR, or keep its key");
      }
    } else {
      publicKey = forge.pki.certificateFromPem(old.certificatePem).publicKey as forge.pki.rsa.PublicKey;
    }
    let privateKeyPem: string | undefined;
    if (!publicKey) {
      const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
      publicKey = forgePublicKey(pair.publicKey);
      privateKeyPem = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    }
    const prepared = this.prepare({ ...base, publicKey });
    this.store.transaction(() => {
      this.store.insertCertificate(prepared);
      if (req.revokePrevious) this.store.insertRevocation(old.serial, 'superseded', this.clock());
    });
    return { certificate: prepared, ...(privateKeyPem ? { privateKeyPem } : {}) };
  }

  /**
   * Revokes a certificate: the revocation list's generation increases and the CRL lists it.
   * Revoking a revoked certificate changes nothing and answers as the first time did.
   */
  revokeCertificate(req: { serial: string; reason?: RevocationReason }): { certificate: CertificateRecord; generation: number } {
    const reason = req.reason ?? 'unspecified';
    if (!REVOCATION_REASONS.includes(reason)) throw new InvalidArgument('reason', `must be one of ${REVOCATION_REASONS.join(', ')}`, reason);
    const hex = parseSerial('serial', req.serial);
    return this.store.transaction(() => {
      const cert = this.store.getCertificate(hex);
      if (!cert) throw new NotFound(`certificate with serial ${hex} is not known to this CA`);
      if (cert.revocation) return { certificate: cert, generation: cert.revocation.generation };
      const generation = this.store.insertRevocation(hex, reason, this.clock());
      return { certificate: this.store.getCertificate(hex)!, generation };
    });
  }

  /** Current revocation generation (cheap; for polling). */
  revocationGeneration(): number {
    return this.store.revocationGeneration();
  }

  /** What the broker and zone proxies enforce on the next handshake. */
  revocationList(): RevocationList {
    const now = this.clock();
    const thisUpdate = new Date(Math.floor(now.getTime() / 1000) * 1000);
    // Expired certificates fail verification anyway; they drop out of the list.
    const entries = this.store.listRevocations().filter((e) => e.notAfter > now);
    const generation = this.store.revocationGeneration();
    const crls = this.roots.trusted().map((root) => {
      const pem = buildCrl({
        issuerAttributes: root.signer.subjectAttributes,
        issuerKeyId: root.signer.subjectKeyId!,
        issuerKey: root.signer.privateKey,
        crlNumber: generation,
        thisUpdate,
        nextUpdate: new Date(thisUpdate.getTime() + this.crlValidityMs),
        entries: entries.filter((e) => e.issuerRootId === root.record.id).map((e) => ({ serialHex: e.serial, revokedAt: e.revokedAt, reason: e.reason })),
      }).pem;
      return { rootId: root.record.id, pem };
    });
    return { generation, entries, crls, issuedAt: thisUpdate };
  }

  // --- roots

  /** The trusted roots, issuing root first; version increases with every rotation. */
  trustBundle(): { roots: RootRecord[]; pem: string; version: number } {
    return this.roots.trustBundle();
  }

  /**
   * Rotates the root: a new root signs from now on; the previous one stays in the trust bundle
   * for `overlapMs` while what it signed is renewed, then leaves it.
   */
  rotateRoot(req: { overlapMs?: number; validityDays?: number } = {}): RootRecord {
    const overlapMs = req.overlapMs ?? ROTATION.defaultOverlapMs;
    if (!Number.isFinite(overlapMs) || overlapMs < ROTATION.minOverlapMs) {
      throw new InvalidArgument('overlap', 'must be at least 1 day, so endpoints can renew before the old root leaves the trust bundle', `${overlapMs / 1000}s`);
    }
    const days = req.validityDays ?? this.validity.rootDays;
    if (!Number.isInteger(days) || days < 30 || days > 36500) {
      throw new InvalidArgument('validity', 'must be from 30 days to 100 years, in whole days', `${days} days`);
    }
    return this.roots.rotate({ overlapMs, validityDays: days }).record;
  }

  activeRoot(): LoadedRoot {
    return this.roots.active();
  }

  /** Every root this CA has had (for resolving a certificate's issuer), oldest first. */
  allRoots(): RootRecord[] {
    return this.roots.all().map((r) => r.record);
  }

  // --- internals

  private issueWithNewKey(spec: IssueSpec): IssuedCertificate {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const prepared = this.prepare({ ...spec, publicKey: forgePublicKey(publicKey) });
    this.store.insertCertificate(prepared);
    return { certificate: prepared, privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
  }

  /** Builds and signs a certificate (no writes). */
  private prepare(spec: IssueSpec & { publicKey: forge.pki.rsa.PublicKey }): Omit<CertificateRecord, 'revocation'> {
    const root = this.roots.active();
    const now = this.clock();
    const validityMs = spec.validityMs ?? validityDaysFor(spec.kind, this.validity) * DAY_MS;
    const window = validityWindowMs(now, validityMs, this.validity.backdateSeconds);
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
      label: spec.label,
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

  private checkValidity(field: string, ms: number | undefined, maxMs: number): number | undefined {
    if (ms === undefined) return undefined;
    if (!Number.isFinite(ms) || ms < VALIDITY_LIMITS.minMs || ms > maxMs) {
      throw new InvalidArgument(field, `must be from 1 minute to ${Math.round(maxMs / DAY_MS)} days (unset: the default for the purpose)`, `${ms / 1000}s`);
    }
    return ms;
  }
}

interface IssueSpec {
  readonly kind: CertificateKind;
  readonly commonName: string;
  readonly subjectName: string;
  readonly label: string;
  readonly altNames: SubjectAltNames;
  /** undefined: the default for the kind. */
  readonly validityMs: number | undefined;
  readonly renewedFrom?: string;
  readonly enrolmentTokenId?: string;
}

function checkCommonName(value: string): string {
  if (typeof value !== 'string' || value.length === 0) throw new InvalidArgument('common_name', 'is required', value);
  // RFC 5280 upper bound for commonName; printable text only.
  if (value.length > 64 || !/^[\x20-\x7e]+$/.test(value)) {
    throw new InvalidArgument('common_name', 'must be 1–64 printable ASCII characters', value);
  }
  return value;
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
