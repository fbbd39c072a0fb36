// Users and their roles; the store keeps one document per user, changes audited.
import type { Clock } from '../clock';
import { alreadyExists, FailedPrecondition, InvalidArgument, notFound } from '../errors';
import type { SettingsStore } from '../store/settings-store';
import { ROLES, type Role } from './permissions';

export interface User {
  name: string;
  role: Role;
  createdAt: string;
}

export const USER_KIND = 'user';

export interface UserHooks {
  /** Called inside the deleting transaction (revokes the user's tokens; may refuse by throwing). */
  beforeDelete?(actor: string, name: string): void;
  /** Called before a role change; may refuse by throwing. */
  beforeRoleChange?(name: string, role: Role): void;
}
const NAME = /^[A-Za-z0-9][A-Za-z0-9._@\\-]{0,127}$/;

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

  create(actor: string, name: string, role: Role): User {
    checkName(name);
    checkRole(role);
    return this.store.transaction(() => {
      if (this.find(name)) throw alreadyExists('user', name);
      const user: User = { name, role, createdAt: this.clock.now().toISOString() };
      this.store.put(actor, USER_KIND, name, user);
      return user;
    });
  }

  setRole(actor: string, name: string, role: Role): User {
    checkRole(role);
    return this.store.transaction(() => {
      const user = this.get(name);
      if (user.role === 'ADMINISTRATOR' && role !== 'ADMINISTRATOR') this.refuseLastAdministrator(name, 'lose its role');
      this.hooks.beforeRoleChange?.(name, role);
      const next = { ...user, role };
      this.store.put(actor, USER_KIND, name, next);
      return next;
    });
  }

  delete(actor: string, name: string): void {
    this.store.transaction(() => {
      const user = this.get(name);
      if (user.role === 'ADMINISTRATOR') this.refuseLastAdministrator(name, 'be deleted');
      this.hooks.beforeDelete?.(actor, name);
      this.store.remove(actor, USER_KIND, name);
    });
  }

  private refuseLastAdministrator(name: string, what: string): void {
    if (this.list().filter((u) => u.role === 'ADMINISTRATOR').length <= 1) {
      throw new FailedPrecondition(`user "${name}" is the last administrator and cannot ${what}`);
    }
  }
}

function checkName(name: string): void {
  if (!NAME.test(name ?? '')) {
    throw new InvalidArgument('name', `a user name is 1–128 letters, digits, ".", "_", "@", "\\" or "-"`, name);
  }
}

function checkRole(role: Role): void {
  if (!ROLES.includes(role)) throw new InvalidArgument('role', `must be one of ${ROLES.join(', ')}`, String(role));
}
