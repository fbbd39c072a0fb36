// The permission check every service runs on every request: token → user → role → SPEC 1.3 permission.
import { PermissionDenied, Unauthenticated } from '../errors';
import { type Permission, type Role, ROLE_PERMISSIONS } from './permissions';
import type { TokenService } from './tokens';
import type { UserService } from './users';

export interface Principal {
  user: string;
  roles: Role[];
  tokenId: string;
}

/** The union of the permissions of a principal's roles. */
export function permissionsOf(roles: readonly Role[]): Set<Permission> {
  return new Set(roles.flatMap((r) => [...ROLE_PERMISSIONS[r]]));
}

export interface PermissionDecision {
  allowed: boolean;
  principal: Principal;
  reason: string;
}

export class AccessControl {
  constructor(
    private readonly users: UserService,
    private readonly tokens: TokenService,
  ) {}

  /** Authenticates the token; throws Unauthenticated when it is missing, unknown, expired or revoked. */
  authenticate(token: string | undefined): Principal {
    if (!token) throw new Unauthenticated('no bearer token (send metadata "authorization: Bearer <token>")');
    const { tokenId, user } = this.tokens.authenticate(token);
    const found = this.users.find(user);
    if (!found) throw new Unauthenticated(`token ${tokenId} belongs to user "${user}", who no longer exists`);
    if (found.disabled) throw new Unauthenticated(`user "${user}" is disabled`);
    return { user: found.name, roles: found.roles, tokenId };
  }

  /** Decides, without throwing on a denial: what CheckPermission returns to other services. */
  check(token: string | undefined, permission: Permission, alternatives: readonly Permission[] = []): PermissionDecision {
    const principal = this.authenticate(token);
    const granted = permissionsOf(principal.roles);
    const wanted = [permission, ...alternatives];
    const allowed = wanted.some((p) => granted.has(p));
    const roles = principal.roles.join(', ');
    return {
      allowed,
      principal,
      reason: allowed
        ? `role ${roles} grants ${wanted.find((p) => granted.has(p))}`
        : `role ${roles} of user "${principal.user}" lacks ${wanted.join(' or ')}`,
    };
  }

  /** Authenticates and requires one of the permissions; throws PermissionDenied otherwise. */
  require(token: string | undefined, permission: Permission, alternatives: readonly Permission[] = []): Principal {
    const decision = this.check(token, permission, alternatives);
    if (!decision.allowed) throw new PermissionDenied(`permission denied: ${decision.reason} (SPEC 1.3)`);
    return decision.principal;
  }
}
