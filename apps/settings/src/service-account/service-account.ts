// The service account (SPEC 1.4.3): the identity that runs background work (Cron Exec); re-entered after each upgrade.
import { FailedPrecondition } from '../errors';
import type { TokenInfo, TokenService } from '../rbac/tokens';
import type { UserService } from '../rbac/users';
import type { Actor, SettingsStore } from '../store/settings-store';

export const SERVICE_ACCOUNT_KIND = 'service_account';
const KEY = 'direct-connect';

interface StoredServiceAccount {
  user: string;
  tokenId: string;
  /** The product version when the token was issued (SPEC 1.4.3: re-enter after each upgrade). */
  version: string;
}

export interface ServiceAccountView {
  /** Empty until set-up (default mode) or the operator (custom mode) sets it. */
  user: string;
  token?: TokenInfo;
  /** Its token exists, is not revoked and has not expired. */
  configured: boolean;
  reentryRequired: boolean;
}

export class ServiceAccountService {
  constructor(
    private readonly deps: { store: SettingsStore; users: UserService; tokens: TokenService; version: string; now: () => Date },
  ) {}

  get(): ServiceAccountView {
    const stored = this.deps.store.get<StoredServiceAccount>(SERVICE_ACCOUNT_KIND, KEY)?.value;
    if (!stored) return { user: '', configured: false, reentryRequired: false };
    const token = this.deps.tokens.list(stored.user).find((t) => t.id === stored.tokenId);
    const live = token !== undefined && !token.revokedAt && (!token.expiresAt || new Date(token.expiresAt) > this.deps.now());
    return { user: stored.user, token, configured: live, reentryRequired: stored.version !== this.deps.version };
  }

  /**
   * Designates `user` (created with the Service Account role when missing) and issues its token,
   * returned once; the previous service account token is revoked. `ttlSeconds` null = no expiry.
   */
  set(actor: Actor, user: string, ttlSeconds: number | null): { serviceAccount: ServiceAccountView; token: string } {
    const { store, users, tokens } = this.deps;
    return store.transaction(() => {
      const existing = users.find(user);
      if (!existing) users.create(actor, user, ['SERVICE_ACCOUNT'], 'Direct Connect service account');
      else if (!existing.roles.includes('SERVICE_ACCOUNT')) {
        throw new FailedPrecondition(
          `user "${user}" has role ${existing.roles.join(', ')}; the service account needs the SERVICE_ACCOUNT role (SPEC 1.4.3)`,
        );
      }
      const previous = store.get<StoredServiceAccount>(SERVICE_ACCOUNT_KIND, KEY)?.value;
      if (previous?.tokenId) {
        const old = tokens.list(previous.user).find((t) => t.id === previous.tokenId);
        if (old && !old.revokedAt) tokens.revoke(actor, old.id);
      }
      const issued = tokens.create(actor, user, 'service account', ttlSeconds);
      store.put<StoredServiceAccount>(actor, SERVICE_ACCOUNT_KIND, KEY, { user, tokenId: issued.info.id, version: this.deps.version });
      return { serviceAccount: this.get(), token: issued.token };
    });
  }

  /** Whether `user` is the service account (it may then not be deleted, disabled or lose its role). */
  uses(user: string): boolean {
    return this.deps.store.get<StoredServiceAccount>(SERVICE_ACCOUNT_KIND, KEY)?.value.user === user;
  }
}
