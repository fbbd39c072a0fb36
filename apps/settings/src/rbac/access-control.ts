// The permission check every service runs on every request: token → user → role → SPEC 1.3 permission.
import { PermissionDenied, Unauthenticated } from '../errors';
import { type Permission, type Role, roleAllows } from './permissions';
import type { TokenService } from './tokens';
import type { UserService } from './users';

export interface Principal {
  user: string;
  role: Role;
  tokenId: string;
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
    return { user: found.name, role: found.role, tokenId };
  }

  /** Decides, without throwing on a denial: what CheckPermission returns to other services. */
  check(token: string | undefined, permission: Permission): PermissionDecision {
    const principal = this.authenticate(token);
    const allowed = roleAllows(principal.role, permission);
    return {
      allowed,
      principal,
      reason: allowed
        ? `role ${principal.role} has permission ${permission}`
        : `role ${principal.role} of user "${principal.user}" lacks permission ${permission}`,
    };
  }

  /** Authenticates and requires the permission; throws PermissionDenied otherwise. */
  require(token: string | undefined, permission: Permission): Principal {
    const decision = this.check(token, permission);
    if (!decision.allowed) throw new PermissionDenied(`permission denied: ${decision.reason} (SPEC 1.3)`);
    return decision.principal;
  }
}
