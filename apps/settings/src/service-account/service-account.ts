// The service account (SPEC 1.4.3): the identity that runs background work; it must hold the Service Account role.
import { FailedPrecondition } from '../errors';
import type { Actor, SettingsStore } from '../store/settings-store';
import type { UserService } from '../rbac/users';

export const SERVICE_ACCOUNT_KIND = 'service_account';
const KEY = 'direct-connect';

export interface ServiceAccount {
  /** Empty until set-up (default mode) or the operator (custom mode) sets it. */
  user: string;
}

export class ServiceAccountService {
  constructor(
    private readonly store: SettingsStore,
    private readonly users: UserService,
  ) {}

  get(): ServiceAccount {
    return this.store.get<ServiceAccount>(SERVICE_ACCOUNT_KIND, KEY)?.value ?? { user: '' };
  }

  /** Designates `user` (created with the Service Account role when missing). */
  set(actor: Actor, user: string): { serviceAccount: ServiceAccount; revision: number } {
    return this.store.transaction(() => {
      const existing = this.users.find(user);
      if (!existing) this.users.create(actor, user, ['SERVICE_ACCOUNT']);
      else if (!existing.roles.includes('SERVICE_ACCOUNT')) {
        throw new FailedPrecondition(
          `user "${user}" has role ${existing.roles.join(', ')}; the service account needs the SERVICE_ACCOUNT role (SPEC 1.4.3)`,
        );
      }
      const value = { user };
      return { serviceAccount: value, revision: this.store.put(actor, SERVICE_ACCOUNT_KIND, KEY, value) };
    });
  }

  /** Why a user may not be deleted or lose its role, if it is the service account. */
  uses(user: string): boolean {
    return this.get().user === user;
  }
}
