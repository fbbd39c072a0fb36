// API tokens: 32 random bytes shown once, stored as SHA-256, compared in constant time; expiring and revocable.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../clock';
import { InvalidArgument, notFound, Unauthenticated } from '../errors';
import type { Actor, SettingsStore } from '../store/settings-store';
import type { UserService } from './users';

export const TOKEN_KIND = 'token';
const PREFIX = 'dct_';
export const DEFAULT_TOKEN_TTL_SECONDS = 30 * 24 * 3600;
export const MAX_TOKEN_TTL_SECONDS = 2 * 366 * 24 * 3600; // dc.settings.v1 CreateApiTokenRequest: max 2 years
/** last_used_at is refreshed at most this often, so checks on every request do not write every time. */
const LAST_USED_RESOLUTION_MS = 60_000;

export interface TokenInfo {
  id: string;
  user: string;
  description: string;
  createdAt: string;
  /** Empty for tokens without expiry (the bootstrap administrator and service account). */
  expiresAt: string;
  revokedAt: string;
  lastUsedAt: string;
}

export interface IssuedToken {
  info: TokenInfo;
  /** The secret; shown once, never stored. */
  token: string;
}

interface TokenRow {
  id: string;
  user_name: string;
  token_hash: Buffer;
  description: string;
  created_at: string;
  expires_at: string | null;
  revoked_at: string | null;
  last_used_at: string | null;
}

export class TokenService {
  private readonly stmt;

  constructor(
    private readonly store: SettingsStore,
    private readonly users: UserService,
    private readonly clock: Clock,
  ) {
    const db = store.db;
    this.stmt = {
      insert: db.prepare(
        `INSERT INTO tokens (id, user_name, token_hash, description, created_at, expires_at)
         VALUES (@id, @user, @hash, @description, @createdAt, @expiresAt)`,
      ),
      byId: db.prepare<[string], TokenRow>('SELECT * FROM tokens WHERE id = ?'),
      byUser: db.prepare<[string], TokenRow>('SELECT * FROM tokens WHERE user_name = ? ORDER BY created_at'),
      all: db.prepare<[], TokenRow>('SELECT * FROM tokens ORDER BY user_name, created_at'),
      revoke: db.prepare<[string, string]>('UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL'),
      touch: db.prepare<[string, string]>('UPDATE tokens SET last_used_at = ? WHERE id = ?'),
    };
  }

  /**
   * Issues a token for `user`. `ttlSeconds` 0 uses the default (30 days); `null` means no expiry,
   * reserved for the bootstrap credentials written at first start.
   */
  create(actor: Actor, user: string, description: string, ttlSeconds: number | null): IssuedToken {
    if (ttlSeconds !== null && (!Number.isInteger(ttlSeconds) || ttlSeconds < 0 || ttlSeconds > MAX_TOKEN_TTL_SECONDS)) {
      throw new InvalidArgument('ttlSeconds', `must be a whole number of seconds from 1 to ${MAX_TOKEN_TTL_SECONDS} (0 = default ${DEFAULT_TOKEN_TTL_SECONDS})`, ttlSeconds);
    }
    if ((description ?? '').length > 200) {
      throw new InvalidArgument('description', `at most 200 characters (got ${description.length})`);
    }
    const id = randomBytes(8).toString('hex');
    const token = `${PREFIX}${id}_${randomBytes(32).toString('base64url')}`;
    const now = this.clock.now();
    const ttl = ttlSeconds === 0 ? DEFAULT_TOKEN_TTL_SECONDS : ttlSeconds;
    const expiresAt = ttl === null ? null : new Date(now.getTime() + ttl * 1000).toISOString();
    return this.store.transaction(() => {
      this.users.get(user);
      const row = { id, user, hash: sha256(token), description: description ?? '', createdAt: now.toISOString(), expiresAt };
      this.stmt.insert.run(row);
      const info = toInfo(this.stmt.byId.get(id) as TokenRow);
      this.store.recordChange(actor, TOKEN_KIND, id, 'create', undefined, info);
      return { info, token };
    });
  }

  list(user?: string): TokenInfo[] {
    return (user ? this.stmt.byUser.all(user) : this.stmt.all.all()).map(toInfo);
  }

  revoke(actor: Actor, id: string): TokenInfo {
    return this.store.transaction(() => {
      const before = this.stmt.byId.get(id);
      if (!before) throw notFound('token', id);
      this.stmt.revoke.run(this.clock.now().toISOString(), id);
      const after = toInfo(this.stmt.byId.get(id) as TokenRow);
      if (!before.revoked_at) this.store.recordChange(actor, TOKEN_KIND, id, 'update', toInfo(before), after);
      return after;
    });
  }

  /** Revokes every live token of a user (used when the user is deleted). */
  revokeAllOf(actor: Actor, user: string): void {
    for (const t of this.stmt.byUser.all(user)) if (!t.revoked_at) this.revoke(actor, t.id);
  }

  /** Returns the token's owner, or throws Unauthenticated saying why the token is not accepted. */
  authenticate(token: string): { tokenId: string; user: string } {
    const match = /^dct_([0-9a-f]{16})_[A-Za-z0-9_-]{43}$/.exec(token ?? '');
    if (!match) throw new Unauthenticated('the bearer token is malformed (expected "dct_<id>_<secret>")');
    const row = this.stmt.byId.get(match[1]);
    // Hash even for an unknown id, so timing does not tell known ids from unknown ones.
    const presented = sha256(token);
    const expected = row?.token_hash ?? Buffer.alloc(32);
    if (!timingSafeEqual(presented, expected) || !row) throw new Unauthenticated('the bearer token is not known');
    const now = this.clock.now();
    if (row.revoked_at) throw new Unauthenticated(`token ${row.id} was revoked at ${row.revoked_at}`);
    if (row.expires_at && new Date(row.expires_at) <= now) {
      throw new Unauthenticated(`token ${row.id} expired at ${row.expires_at}`);
    }
    if (!row.last_used_at || now.getTime() - new Date(row.last_used_at).getTime() >= LAST_USED_RESOLUTION_MS) {
      this.stmt.touch.run(now.toISOString(), row.id);
    }
    return { tokenId: row.id, user: row.user_name };
  }
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

function toInfo(row: TokenRow): TokenInfo {
  return {
    id: row.id,
    user: row.user_name,
    description: row.description,
    createdAt: row.created_at,
    expiresAt: row.expires_at ?? '',
    revokedAt: row.revoked_at ?? '',
    lastUsedAt: row.last_used_at ?? '',
  };
}
