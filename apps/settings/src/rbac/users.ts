// Users (principals) and their roles; one document per user, every change audited.
import type { Clock } from '../clock';
import { alreadyExists, FailedPrecondition, InvalidArgument, notFound } from '../errors';
import type { Actor, SettingsStore } from '../store/settings-store';
import { ROLES, type Role } from './permissions';

export interface User {
  /** The login name; also the user's id (names never change). */
  name: string;
  displayName: string;
  roles: Role[];
  disabled: boolean;
  createdAt: string;
  updatedAt: string;
}

export const USER_KIND = 'user';
const NAME = /^[A-Za-z0-9][A-Za-z0-9._@\\-]{0,63}$/;

export interface UserHooks {
  /** Called inside the deleting transaction (revokes the user's tokens; may refuse by throwing). */
  beforeDelete?(actor: Actor, name: string): void;
  /** Called before roles change or the user is disabled; may refuse by throwing. */
  beforeUpdate?(current: User, next: User): void;
}

export class UserService {
  constructor(
    private readonly store: SettingsStore,
    private readonly clock: Clock,
    private readonly hooks: UserHooks = {},
  ) {}

  list(): User[] {
    return this.store.list<User>(USER_KIND).map((d) => d.value);
  }

  find(name: string): User | undefined {
    return this.store.get<User>(USER_KIND, name)?.value;
  }

  get(name: string): User {
    const user = this.find(name);
    if (!user) throw notFound('user', name);
    return user;
  }

  create(actor: Actor, name: string, roles: Role[], displayName = ''): User {
    if (!NAME.test(name ?? '')) {
      throw new InvalidArgument('name', 'a user name is 1–64 letters, digits, ".", "_", "@", "\\" or "-"', name);
    }
    const valid = checkRoles(roles);
    return this.store.transaction(() => {
      if (this.find(name)) throw alreadyExists('user', name);
      const now = this.clock.now().toISOString();
      const user: User = { name, displayName: displayName || name, roles: valid, disabled: false, createdAt: now, updatedAt: now };
      this.store.put(actor, USER_KIND, name, user);
      return user;
    });
  }

  /** Changes display name, roles (empty = unchanged) or disabled (undefined = unchanged). */
  update(actor: Actor, name: string, change: { displayName?: string; roles?: Role[]; disabled?: boolean }): User {
    return this.store.transaction(() => {
      const user = this.get(name);
      const next: User = {
        ...user,
        displayName: change.displayName || user.displayName,
        roles: change.roles && change.roles.length > 0 ? checkRoles(change.roles) : user.roles,
        disabled: change.disabled ?? user.disabled,
        updatedAt: this.clock.now().toISOString(),
      };
      if (isActiveAdministrator(user) && !isActiveAdministrator(next)) this.refuseLastAdministrator(name, 'lose its role or be disabled');
      this.hooks.beforeUpdate?.(user, next);
      this.store.put(actor, USER_KIND, name, next);
      return next;
    });
  }

  delete(actor: Actor, name: string): void {
    this.store.transaction(() => {
      const user = this.get(name);
      if (isActiveAdministrator(user)) this.refuseLastAdministrator(name, 'be deleted');
      this.hooks.beforeDelete?.(actor, name);
      this.store.remove(actor, USER_KIND, name);
    });
  }

  private refuseLastAdministrator(name: string, what: string): void {
    if (this.list().filter(isActiveAdministrator).length <= 1) {
      throw new FailedPrecondition(`user "${name}" is the last enabled administrator and cannot ${what}`);
    }
  }
}

function isActiveAdministrator(user: User): boolean {
  return !user.disabled && user.roles.includes('ADMINISTRATOR');
}

function checkRoles(roles: Role[]): Role[] {
  if (!roles || roles.length === 0) throw new InvalidArgument('roles', `at least one role is required (${ROLES.join(', ')})`);
  for (const role of roles) {
    if (!ROLES.includes(role)) throw new InvalidArgument('roles', `must be one of ${ROLES.join(', ')}`, role);
  }
  return [...new Set(roles)];
}
