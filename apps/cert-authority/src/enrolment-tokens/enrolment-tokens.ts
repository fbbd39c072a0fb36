// Enrolment tokens: one-time or time-limited secrets that authorise an endpoint's first certificate.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { FailedPrecondition, InvalidArgument, NotFound, PermissionDenied } from '@dc/service-kit';
import type { Clock } from '../clock';
import type { CaStore, EnrolmentTokenRecord } from '../store/ca-store';

/** `dcet.<16 hex id>.<43 base64url secret>`: the id finds the row, the secret proves possession. */
const TOKEN_PATTERN = /^dcet\.([0-9a-f]{16})\.([A-Za-z0-9_-]{43})$/;
const FIELD = 'enrolment_token';

export const ENDPOINT_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
export const ENDPOINT_ID_RULE = 'must be 1–128 characters: letters, digits, ".", "_", ":", "-", starting with a letter or digit';

export interface CreateTokenRequest {
  /** Bind the token to one endpoint id; without it the CA assigns a fresh id at each enrolment. */
  readonly endpointId?: string;
  /** How many enrolments the token allows (1 = one-time). */
  readonly maxUses: number;
  readonly ttlSeconds: number;
  readonly label: string;
}

export interface CreatedToken {
  /** The secret token text; shown once, never stored. */
  readonly token: string;
  readonly record: EnrolmentTokenRecord;
}

export const TOKEN_LIMITS = { maxUses: 1_000_000, maxTtlSeconds: 365 * 24 * 3600 };

export class EnrolmentTokens {
  constructor(
    private readonly store: CaStore,
    private readonly clock: Clock,
  ) {}

  create(req: CreateTokenRequest): CreatedToken {
    if (req.endpointId !== undefined && !ENDPOINT_ID_PATTERN.test(req.endpointId)) {
      throw new InvalidArgument('endpoint_id', ENDPOINT_ID_RULE, req.endpointId);
    }
    if (!Number.isInteger(req.maxUses) || req.maxUses < 1 || req.maxUses > TOKEN_LIMITS.maxUses) {
      throw new InvalidArgument('max_uses', `must be a whole number from 1 to ${TOKEN_LIMITS.maxUses}`, req.maxUses);
    }
    if (req.endpointId !== undefined && req.maxUses !== 1) {
      throw new InvalidArgument('max_uses', 'a token bound to one endpoint id is one-time (max_uses 1)', req.maxUses);
    }
    if (!Number.isInteger(req.ttlSeconds) || req.ttlSeconds < 1 || req.ttlSeconds > TOKEN_LIMITS.maxTtlSeconds) {
      throw new InvalidArgument('ttl_seconds', `must be a whole number of seconds from 1 to ${TOKEN_LIMITS.maxTtlSeconds}`, req.ttlSeconds);
    }
    if (req.label.length > 200) throw new InvalidArgument('label', 'must be at most 200 characters', req.label);
    const id = randomBytes(8).toString('hex');
    const secret = randomBytes(32).toString('base64url');
    const now = this.clock();
    const record: EnrolmentTokenRecord = {
      id,
      secretSha256: sha256(secret),
      ...(req.endpointId !== undefined ? { endpointId: req.endpointId } : {}),
      label: req.label,
      maxUses: req.maxUses,
      uses: 0,
      createdAt: now,
      expiresAt: new Date(now.getTime() + req.ttlSeconds * 1000),
    };
    this.store.insertToken(record);
    return { token: `dcet.${id}.${secret}`, record };
  }

  /**
   * Checks a presented token without using it up. Unknown or wrong secrets are PERMISSION_DENIED (without saying which);
   * expired, used-up or revoked tokens are FAILED_PRECONDITION.
   */
  check(token: string): EnrolmentTokenRecord {
    const m = TOKEN_PATTERN.exec(typeof token === 'string' ? token : '');
    // The value is a secret: never echo it.
    if (!m) throw new InvalidArgument(FIELD, 'must be an enrolment token of the form dcet.<id>.<secret>');
    const [, id, secret] = m as unknown as [string, string, string];
    const record = this.store.getToken(id);
    const presented = sha256(secret);
    // Compare even when the id is unknown, so timing does not tell known ids from unknown ones.
    const expected = record?.secretSha256 ?? Buffer.alloc(presented.length);
    if (!timingSafeEqual(presented, expected) || !record) {
      throw new PermissionDenied('enrolment token is not valid for this CA');
    }
    if (record.revokedAt) throw new FailedPrecondition(`enrolment token ${id} was revoked at ${record.revokedAt.toISOString()}; create a new one`);
    const now = this.clock();
    if (now >= record.expiresAt) throw new FailedPrecondition(`enrolment token ${id} expired at ${record.expiresAt.toISOString()}; create a new one`);
    if (record.uses >= record.maxUses) {
      throw new FailedPrecondition(`enrolment token ${id} has been used already (${record.uses} of ${record.maxUses} uses); create a new one`);
    }
    return record;
  }

  /**
   * Checks the token again and counts one use. Call inside the transaction that stores the
   * certificate, so a token is used up exactly when a certificate is issued for it.
   */
  redeem(token: string): EnrolmentTokenRecord {
    const record = this.check(token);
    if (!this.store.useToken(record.id)) {
      throw new FailedPrecondition(`enrolment token ${record.id} has been used already (${record.maxUses} of ${record.maxUses} uses); create a new one`);
    }
    return { ...record, uses: record.uses + 1 };
  }

  list(): EnrolmentTokenRecord[] {
    return this.store.listTokens();
  }

  revoke(id: string): EnrolmentTokenRecord {
    const record = this.store.getToken(id);
    if (!record) throw new NotFound(`enrolment token ${id} is not known to this CA`);
    if (record.revokedAt) throw new FailedPrecondition(`enrolment token ${id} was revoked already at ${record.revokedAt.toISOString()}`);
    const at = this.clock();
    this.store.revokeToken(id, at);
    return { ...record, revokedAt: at };
  }
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}
