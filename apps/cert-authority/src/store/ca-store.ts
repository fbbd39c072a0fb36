// ca.db: roots, certificates, revocations and enrolment tokens (better-sqlite3; keys live in files).
import Database from 'better-sqlite3';
import type { CertificateKind, Purpose } from '../issuance/profiles';
import type { SubjectAltNames } from '../issuance/x509';
import { migrate } from './migrations';

export interface RootRecord {
  /** The subject key identifier, hex: what leaves name in their authority key identifier. */
  readonly id: string;
  readonly serial: string;
  readonly sequence: number;
  readonly certificatePem: string;
  readonly keyFile: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly createdAt: Date;
  /** Set by a rotation: from then on the root is no longer trusted. */
  readonly retireAt?: Date;
}

/** The RFC 5280 CRLReasons we use (dc.ca.v1 RevocationReason; codes in revocation/crl.ts). */
export const REVOCATION_REASONS = [
  'unspecified',
  'key-compromise',
  'affiliation-changed',
  'superseded',
  'cessation-of-operation',
] as const;
export type RevocationReason = (typeof REVOCATION_REASONS)[number];

export interface Revocation {
  readonly reason: RevocationReason;
  readonly revokedAt: Date;
  readonly generation: number;
}

export interface CertificateRecord {
  readonly serial: string;
  readonly kind: CertificateKind;
  readonly commonName: string;
  /** Endpoint id (client id), service name, zone proxy name, or the common name. */
  readonly subjectName: string;
  readonly label: string;
  readonly altNames: SubjectAltNames;
  readonly purpose: Purpose;
  readonly issuerRootId: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly issuedAt: Date;
  readonly certificatePem: string;
  readonly renewedFrom?: string;
  readonly enrolmentTokenId?: string;
  readonly revocation?: Revocation;
}

export interface RevocationEntry extends Revocation {
  readonly serial: string;
  readonly issuerRootId: string;
  readonly notAfter: Date;
}

export type EnrolmentTokenKind = 'one-time' | 'time-limited';

export interface EnrolmentTokenRecord {
  readonly id: string;
  readonly kind: EnrolmentTokenKind;
  readonly secretSha256: Buffer;
  readonly endpointId?: string;
  readonly label: string;
  /** 0: unlimited (time-limited tokens only). */
  readonly maxUses: number;
  readonly uses: number;
  readonly lastUsedAt?: Date;
  readonly createdAt: Date;
  readonly expiresAt: Date;
  readonly revokedAt?: Date;
}

export interface CertificateQuery {
  readonly kinds?: readonly CertificateKind[];
  readonly subjectName?: string;
  /** Leave out certificates whose notAfter has passed at this time. */
  readonly excludeExpiredAt?: Date;
  readonly excludeRevoked?: boolean;
  /** Only certificates whose notAfter is before this. */
  readonly expiringBefore?: Date;
  /** Keyset paging, newest first: rows strictly before this (issuedAt, serial). */
  readonly after?: { readonly issuedAt: number; readonly serial: string };
  readonly limit: number;
}

interface CertificateRow {
  serial: string;
  kind: string;
  common_name: string;
  subject_name: string;
  label: string;
  dns_names: string;
  ip_addresses: string;
  uris: string;
  purpose: string;
  issuer_root_id: string;
  not_before: number;
  not_after: number;
  issued_at: number;
  certificate_pem: string;
  renewed_from: string | null;
  enrolment_token_id: string | null;
  reason: string | null;
  revoked_at: number | null;
  generation: number | null;
}

interface RootRow {
  id: string;
  serial: string;
  sequence: number;
  certificate_pem: string;
  key_file: string;
  not_before: number;
  not_after: number;
  created_at: number;
  retire_at: number | null;
}

interface TokenRow {
  id: string;
  secret_sha256: Buffer;
  kind: string;
  endpoint_id: string | null;
  label: string;
  max_uses: number;
  uses: number;
  last_used_at: number | null;
  created_at: number;
  expires_at: number;
  revoked_at: number | null;
}

const CERT_SELECT = `SELECT c.*, r.reason, r.revoked_at, r.generation FROM certificates c LEFT JOIN revocations r ON r.serial = c.serial`;

export class CaStore {
  private readonly db: Database.Database;
  private readonly stmts;
  /** Filtered listings, prepared once per distinct filter shape. */
  private readonly listings = new Map<string, Database.Statement>();

  constructor(readonly file: string) {
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('busy_timeout = 5000');
    try {
      migrate(this.db);
    } catch (err) {
      this.db.close();
      throw err;
    }
    const db = this.db;
    this.stmts = {
      insertRoot: db.prepare(
        `INSERT INTO roots (id, serial, sequence, certificate_pem, key_file, not_before, not_after, created_at)
         VALUES (@id, @serial, @sequence, @certificatePem, @keyFile, @notBefore, @notAfter, @createdAt)`,
      ),
      listRoots: db.prepare(`SELECT * FROM roots ORDER BY sequence`),
      nextRootSequence: db.prepare(`SELECT COALESCE(MAX(sequence), 0) + 1 AS n FROM roots`),
      scheduleRetirement: db.prepare(`UPDATE roots SET retire_at = ? WHERE id = ? AND retire_at IS NULL`),
      insertCert: db.prepare(
        `INSERT INTO certificates (serial, kind, common_name, subject_name, label, dns_names, ip_addresses, uris, purpose,
           issuer_root_id, not_before, not_after, issued_at, certificate_pem, renewed_from, enrolment_token_id)
         VALUES (@serial, @kind, @commonName, @subjectName, @label, @dnsNames, @ipAddresses, @uris, @purpose,
           @issuerRootId, @notBefore, @notAfter, @issuedAt, @certificatePem, @renewedFrom, @enrolmentTokenId)`,
      ),
      getCert: db.prepare(`${CERT_SELECT} WHERE c.serial = ?`),
      revoke: db.prepare(`INSERT INTO revocations (serial, reason, revoked_at, generation) VALUES (?, ?, ?, ?)`),
      generation: db.prepare(`SELECT COALESCE(MAX(generation), 0) AS g FROM revocations`),
      listRevocations: db.prepare(
        `SELECT r.serial, r.reason, r.revoked_at, r.generation, c.issuer_root_id, c.not_after
         FROM revocations r JOIN certificates c ON c.serial = r.serial ORDER BY r.generation`,
      ),
      insertToken: db.prepare(
        `INSERT INTO enrolment_tokens (id, secret_sha256, kind, endpoint_id, label, max_uses, uses, created_at, expires_at)
         VALUES (@id, @secretSha256, @kind, @endpointId, @label, @maxUses, 0, @createdAt, @expiresAt)`,
      ),
      getToken: db.prepare(`SELECT * FROM enrolment_tokens WHERE id = ?`),
      useToken: db.prepare(
        `UPDATE enrolment_tokens SET uses = uses + 1, last_used_at = ? WHERE id = ? AND (max_uses = 0 OR uses < max_uses)`,
      ),
      revokeToken: db.prepare(`UPDATE enrolment_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`),
    };
  }

  /** Runs fn in one SQLite transaction: all of its writes happen, or none. */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  close(): void {
    this.db.close();
  }

  private prepared(sql: string): Database.Statement {
    let stmt = this.listings.get(sql);
    if (!stmt) {
      stmt = this.db.prepare(sql);
      this.listings.set(sql, stmt);
    }
    return stmt;
  }

  // --- roots

  insertRoot(root: Omit<RootRecord, 'sequence' | 'retireAt'>): RootRecord {
    return this.transaction(() => {
      const sequence = (this.stmts.nextRootSequence.get() as { n: number }).n;
      this.stmts.insertRoot.run({
        ...root,
        sequence,
        notBefore: root.notBefore.getTime(),
        notAfter: root.notAfter.getTime(),
        createdAt: root.createdAt.getTime(),
      });
      return { ...root, sequence };
    });
  }

  listRoots(): RootRecord[] {
    return (this.stmts.listRoots.all() as RootRow[]).map((r) => ({
      id: r.id,
      serial: r.serial,
      sequence: r.sequence,
      certificatePem: r.certificate_pem,
      keyFile: r.key_file,
      notBefore: new Date(r.not_before),
      notAfter: new Date(r.not_after),
      createdAt: new Date(r.created_at),
      ...(r.retire_at === null ? {} : { retireAt: new Date(r.retire_at) }),
    }));
  }

  /** Sets when a root leaves the trust bundle; false when it has a retirement time already. */
  scheduleRetirement(id: string, at: Date): boolean {
    return this.stmts.scheduleRetirement.run(at.getTime(), id).changes === 1;
  }

  // --- certificates

  insertCertificate(c: Omit<CertificateRecord, 'revocation'>): void {
    this.stmts.insertCert.run({
      serial: c.serial,
      kind: c.kind,
      commonName: c.commonName,
      subjectName: c.subjectName,
      label: c.label,
      dnsNames: JSON.stringify(c.altNames.dnsNames),
      ipAddresses: JSON.stringify(c.altNames.ipAddresses),
      uris: JSON.stringify(c.altNames.uris),
      purpose: c.purpose,
      issuerRootId: c.issuerRootId,
      notBefore: c.notBefore.getTime(),
      notAfter: c.notAfter.getTime(),
      issuedAt: c.issuedAt.getTime(),
      certificatePem: c.certificatePem,
      renewedFrom: c.renewedFrom ?? null,
      enrolmentTokenId: c.enrolmentTokenId ?? null,
    });
  }

  getCertificate(serial: string): CertificateRecord | undefined {
    const row = this.stmts.getCert.get(serial) as CertificateRow | undefined;
    return row ? toCertificate(row) : undefined;
  }

  listCertificates(q: CertificateQuery): CertificateRecord[] {
    const where: string[] = [];
    const params: unknown[] = [];
    if (q.kinds && q.kinds.length > 0) {
      where.push(`c.kind IN (${q.kinds.map(() => '?').join(', ')})`);
      params.push(...q.kinds);
    }
    if (q.subjectName !== undefined) {
      where.push('c.subject_name = ?');
      params.push(q.subjectName);
    }
    if (q.excludeExpiredAt) {
      where.push('c.not_after > ?');
      params.push(q.excludeExpiredAt.getTime());
    }
    if (q.excludeRevoked) where.push('r.serial IS NULL');
    if (q.expiringBefore) {
      where.push('c.not_after < ?');
      params.push(q.expiringBefore.getTime());
    }
    if (q.after) {
      where.push('(c.issued_at < ? OR (c.issued_at = ? AND c.serial < ?))');
      params.push(q.after.issuedAt, q.after.issuedAt, q.after.serial);
    }
    const sql = `${CERT_SELECT}${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY c.issued_at DESC, c.serial DESC LIMIT ?`;
    params.push(q.limit);
    return (this.prepared(sql).all(...params) as CertificateRow[]).map(toCertificate);
  }

  // --- revocations

  /** Records a revocation under the next generation number and returns it. */
  insertRevocation(serial: string, reason: RevocationReason, at: Date): number {
    const generation = this.revocationGeneration() + 1;
    this.stmts.revoke.run(serial, reason, at.getTime(), generation);
    return generation;
  }

  revocationGeneration(): number {
    return (this.stmts.generation.get() as { g: number }).g;
  }

  listRevocations(): RevocationEntry[] {
    const rows = this.stmts.listRevocations.all() as Array<{
      serial: string;
      reason: RevocationReason;
      revoked_at: number;
      generation: number;
      issuer_root_id: string;
      not_after: number;
    }>;
    return rows.map((r) => ({
      serial: r.serial,
      reason: r.reason,
      revokedAt: new Date(r.revoked_at),
      generation: r.generation,
      issuerRootId: r.issuer_root_id,
      notAfter: new Date(r.not_after),
    }));
  }

  // --- enrolment tokens

  insertToken(t: Omit<EnrolmentTokenRecord, 'uses' | 'revokedAt' | 'lastUsedAt'>): void {
    this.stmts.insertToken.run({
      id: t.id,
      secretSha256: t.secretSha256,
      kind: t.kind,
      endpointId: t.endpointId ?? null,
      label: t.label,
      maxUses: t.maxUses,
      createdAt: t.createdAt.getTime(),
      expiresAt: t.expiresAt.getTime(),
    });
  }

  getToken(id: string): EnrolmentTokenRecord | undefined {
    const row = this.stmts.getToken.get(id) as TokenRow | undefined;
    return row ? toToken(row) : undefined;
  }

  /** Tokens newest first; `activeAt` leaves out revoked, expired and used-up ones. */
  listTokens(q: { activeAt?: Date; after?: { createdAt: number; id: string }; limit: number }): EnrolmentTokenRecord[] {
    const where: string[] = [];
    const params: unknown[] = [];
    if (q.activeAt) {
      where.push('revoked_at IS NULL AND expires_at > ? AND (max_uses = 0 OR uses < max_uses)');
      params.push(q.activeAt.getTime());
    }
    if (q.after) {
      where.push('(created_at < ? OR (created_at = ? AND id < ?))');
      params.push(q.after.createdAt, q.after.createdAt, q.after.id);
    }
    const sql = `SELECT * FROM enrolment_tokens${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC, id DESC LIMIT ?`;
    params.push(q.limit);
    return (this.prepared(sql).all(...params) as TokenRow[]).map(toToken);
  }

  /** Counts one use; false when the token has no uses left. */
  useToken(id: string, at: Date): boolean {
    return this.stmts.useToken.run(at.getTime(), id).changes === 1;
  }

  revokeToken(id: string, at: Date): boolean {
    return this.stmts.revokeToken.run(at.getTime(), id).changes === 1;
  }
}

function toCertificate(r: CertificateRow): CertificateRecord {
  return {
    serial: r.serial,
    kind: r.kind as CertificateKind,
    commonName: r.common_name,
    subjectName: r.subject_name,
    label: r.label,
    altNames: { dnsNames: JSON.parse(r.dns_names), ipAddresses: JSON.parse(r.ip_addresses), uris: JSON.parse(r.uris) },
    purpose: r.purpose as Purpose,
    issuerRootId: r.issuer_root_id,
    notBefore: new Date(r.not_before),
    notAfter: new Date(r.not_after),
    issuedAt: new Date(r.issued_at),
    certificatePem: r.certificate_pem,
    ...(r.renewed_from ? { renewedFrom: r.renewed_from } : {}),
    ...(r.enrolment_token_id ? { enrolmentTokenId: r.enrolment_token_id } : {}),
    ...(r.revoked_at !== null
      ? { revocation: { reason: r.reason as RevocationReason, revokedAt: new Date(r.revoked_at), generation: r.generation! } }
      : {}),
  };
}

function toToken(r: TokenRow): EnrolmentTokenRecord {
  return {
    id: r.id,
    kind: r.kind as EnrolmentTokenKind,
    secretSha256: r.secret_sha256,
    ...(r.endpoint_id ? { endpointId: r.endpoint_id } : {}),
    label: r.label,
    maxUses: r.max_uses,
    uses: r.uses,
    ...(r.last_used_at !== null ? { lastUsedAt: new Date(r.last_used_at) } : {}),
    createdAt: new Date(r.created_at),
    expiresAt: new Date(r.expires_at),
    ...(r.revoked_at !== null ? { revokedAt: new Date(r.revoked_at) } : {}),
  };
}
