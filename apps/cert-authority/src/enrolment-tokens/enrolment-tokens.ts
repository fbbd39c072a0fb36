// Enrolment tokens: one-time or time-limited secrets that authorise an endpoint's first certificate.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { InvalidArgument, NotFound, Unauthenticated } from '@dc/service-kit';
import { type Clock, DAY_MS } from '../clock';
import type { CaStore, EnrolmentTokenKind, EnrolmentTokenRecord } from '../store/ca-store';

/** `dcet_<16 hex id>_<43 base64url secret>`: the id finds the row, the secret proves possession. */
const TOKEN_PATTERN = /^dcet_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;
const FIELD = 'enrolment_token';

export const ENDPOINT_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
export const ENDPOINT_ID_RULE = 'must be 1–128 characters: letters, digits, ".", "_", ":", "-", starting with a letter or digit';

/** dc.ca.v1 CreateEnrolmentTokenRequest: defaults 24 h (one-time) and 30 days (time-limited). */
export const TOKEN_TTL = { oneTimeDefaultMs: DAY_MS, timeLimitedDefaultMs: 30 * DAY_MS, minMs: 60_000, maxMs: 365 * DAY_MS };

export interface CreateTokenRequest {
  readonly kind: EnrolmentTokenKind;
  /** Time-limited tokens: how many enrolments (0 = unlimited). One-time tokens: always 1. */
  readonly maxUses?: number;
  /** Unset: the kind's default. */
  readonly ttlMs?: number;
  readonly label?: string;
  /** Bind a one-time token to one endpoint id (re-enrolling a known endpoint); else the CA assigns one. */
  readonly endpointId?: string;
}

export interface CreatedToken {
  /** The secret token text; shown once, never stored. */
  readonly token: string;
  readonly record: EnrolmentTokenRecord;
}

export class EnrolmentTokens {
  constructor(
    private readonly store: CaStore,
    private readonly clock: Clock,
  ) {}

  create(req: CreateTokenRequest): CreatedToken {
    if (req.kind !== 'one-time' && req.kind !== 'time-limited') {
      throw new InvalidArgument('kind', 'must be ONE_TIME or TIME_LIMITED', req.kind);
    }
    const oneTime = req.kind === 'one-time';
    const maxUses = oneTime ? 1 : (req.maxUses ?? 0);
    if (!oneTime && (!Number.isInteger(maxUses) || maxUses < 0 || maxUses > 10_000_000)) {
      throw new InvalidArgument('max_uses', 'must be a whole number from 0 (unlimited) to 10000000', req.maxUses);
    }
    if (oneTime && req.maxUses !== undefined && req.maxUses > 1) {
      throw new InvalidArgument('max_uses', 'a ONE_TIME token is good for exactly one enrolment (leave max_uses 0 or 1)', req.maxUses);
    }
    if (req.endpointId !== undefined) {
      if (!ENDPOINT_ID_PATTERN.test(req.endpointId)) throw new InvalidArgument('client_id', ENDPOINT_ID_RULE, req.endpointId);
      if (!oneTime) throw new InvalidArgument('client_id', 'only a ONE_TIME token can be bound to one endpoint', req.endpointId);
    }
    const ttlMs = req.ttlMs ?? (oneTime ? TOKEN_TTL.oneTimeDefaultMs : TOKEN_TTL.timeLimitedDefaultMs);
    if (!Number.isFinite(ttlMs) || ttlMs < TOKEN_TTL.minMs || ttlMs > TOKEN_TTL.maxMs) {
      throw new InvalidArgument('ttl', 'must be from 1 minute to 365 days', `${ttlMs / 1000}s`);
    }
    const label = req.label ?? '';
    if (label.length > 200) throw new InvalidArgument('label', 'must be at most 200 characters', label);
    const id = randomBytes(8).toString('hex');
    const secret = randomBytes(32).toString('base64url');
    const now = this.clock();
    const record: EnrolmentTokenRecord = {
      id,
      kind: req.kind,
      secretSha256: sha256(secret),
      ...(req.endpointId !== undefined ? { endpointId: req.endpointId } : {}),
      label,
      maxUses,
      uses: 0,
      createdAt: now,
      expiresAt: new Date(now.getTime() + ttlMs),
    };
    this.store.insertToken(record);
    return { token: `dcet_${id}_${secret}`, record };
  }

  /**
   * Checks a presented token without using it up. Every refusal is UNAUTHENTICATED (the token
   * is the credential); the message says which rule failed, never the secret.
   */
  check(token: string): EnrolmentTokenRecord {
    const m = TOKEN_PATTERN.exec(typeof token === 'string' ? token : '');
    // The value is a secret: never echo it.
    if (!m) throw new InvalidArgument(FIELD, 'must be an enrolment token of the form dcet_<id>_<secret>');
    const [, id, secret] = m as unknown as [string, string, string];
    const record = this.store.getToken(id);
    const presented = sha256(secret);
    // Compare even when the id is unknown, so timing does not tell known ids from unknown ones.
    const expected = record?.secretSha256 ?? Buffer.alloc(presented.length);
    if (!timingSafeEqual(presented, expected) || !record) {
      throw new Unauthenticated('enrolment token is unknown to this CA (or its secret is wrong)');
    }
    if (record.revokedAt) throw new Unauthenticated(`enrolment token ${id} was revoked at ${record.revokedAt.toISOString()}; create a new one`);
    const now = this.clock();
    if (now >= record.expiresAt) throw new Unauthenticated(`enrolment token ${id} expired at ${record.expiresAt.toISOString()}; create a new one`);
    if (record.maxUses > 0 && record.uses >= record.maxUses) {
      throw new Unauthenticated(`enrolment token ${id} is used up (${record.uses} of ${record.maxUses} uses); create a new one`);
    }
    return record;
  }

  /**
   * Checks the token again and counts one use. Call inside the transaction that stores the
   * certificate, so a token is used up exactly when a certificate is issued for it.
   */
  redeem(token: string): EnrolmentTokenRecord {
    const record = this.check(token);
    const now = this.clock();
    if (!this.store.useToken(record.id, now)) {
      throw new Unauthenticated(`enrolment token ${record.id} is used up (${record.maxUses} of ${record.maxUses} uses); create a new one`);
    }
    return { ...record, uses: record.uses + 1, lastUsedAt: now };
  }

  /** Tokens newest first, without secrets; by default only those still usable. */
  list(req: { includeInactive?: boolean; pageSize?: number; pageToken?: string } = {}): { tokens: EnrolmentTokenRecord[]; nextPageToken: string } {
    const pageSize = checkPageSize(req.pageSize);
    const rows = this.store.listTokens({
      activeAt: req.includeInactive ? undefined : this.clock(),
      after: req.pageToken ? decodeTokenPage(req.pageToken) : undefined,
      limit: pageSize + 1,
    });
    const tokens = rows.slice(0, pageSize);
    const last = tokens[tokens.length - 1];
    return {
      tokens,
      nextPageToken: rows.length > pageSize && last ? Buffer.from(JSON.stringify([last.createdAt.getTime(), last.id])).toString('base64url') : '',
    };
  }

  get(id: string): EnrolmentTokenRecord {
    const record = /^[0-9a-f]{16}$/.test(id) ? this.store.getToken(id) : undefined;
    if (!record) throw new NotFound(`enrolment token ${JSON.stringify(id)} is not known to this CA`);
    return record;
  }

  /** Revokes a token: no more enrolments with it. Revoking twice is fine (idempotent). */
  revoke(id: string): EnrolmentTokenRecord {
    const record = this.get(id);
    if (record.revokedAt) return record;
    const at = this.clock();
    this.store.revokeToken(id, at);
    return { ...record, revokedAt: at };
  }
}

export function checkPageSize(pageSize: number | undefined): number {
  const size = pageSize || 100;
  if (!Number.isInteger(size) || size < 1 || size > 1000) {
    throw new InvalidArgument('page_size', 'must be a whole number from 1 to 1000 (0: 100)', pageSize);
  }
  return size;
}

function decodeTokenPage(token: string): { createdAt: number; id: string } {
  try {
    const [createdAt, id] = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as [unknown, unknown];
    if (typeof createdAt === 'number' && typeof id === 'string') return { createdAt, id };
  } catch {
    // fall through
  }
  throw new InvalidArgument('page_token', 'is not a page token this CA handed out; pass next_page_token from the previous page', token);
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}
