// dc.settings.v1 RbacService: users, roles, API tokens and the permission check every service calls (SPEC 1.3).
import { commonV1, settingsV1 } from '@dc/proto';
import type { GrpcServiceBinding } from '@dc/service-kit';
import { DomainError } from '@dc/service-kit';
import { InvalidArgument } from '../errors';
import { permissionsOf, type Principal } from '../rbac/access-control';
import { PERMISSIONS, type Permission, ROLE_PERMISSIONS, ROLES, type Role } from '../rbac/permissions';
import type { TokenInfo } from '../rbac/tokens';
import type { User } from '../rbac/users';
import type { Settings } from '../settings';
import { type CallDeps, READ, unary, WRITE } from './call';
import { fromEnum, paginate, seconds, time, toEnum } from './convert';

/** How long callers may cache a CheckPermission answer. */
export const PERMISSION_CACHE_TTL_SECONDS = 5;

const permission = {
  toProto: (p: Permission) => toEnum<commonV1.Permission>(commonV1.Permission, 'PERMISSION_', p),
  toDomain: (field: string, p: commonV1.Permission): Permission => {
    const name = fromEnum(commonV1.Permission, 'PERMISSION_', p);
    if (!(PERMISSIONS as readonly string[]).includes(name)) throw new InvalidArgument(field, `must be one of ${PERMISSIONS.join(', ')}`, p);
    return name as Permission;
  },
};
const role = {
  toProto: (r: Role) => toEnum<commonV1.Role>(commonV1.Role, 'ROLE_', r),
  toDomain: (r: commonV1.Role) => fromEnum(commonV1.Role, 'ROLE_', r) as Role,
};

function toProtoPrincipal(p: Principal): commonV1.Principal {
  return { principalId: p.user, name: p.user, roles: p.roles.map(role.toProto), tokenId: p.tokenId };
}

function toProtoUser(u: User): settingsV1.User {
  return {
    userId: u.name,
    name: u.name,
    displayName: u.displayName,
    roles: u.roles.map(role.toProto),
    disabled: u.disabled,
    createTime: time(u.createdAt),
    updateTime: time(u.updatedAt),
  };
}

function toProtoToken(t: TokenInfo): settingsV1.ApiToken {
  return {
    tokenId: t.id,
    userId: t.user,
    name: t.description,
    createTime: time(t.createdAt),
    expireTime: time(t.expiresAt),
    lastUsedTime: time(t.lastUsedAt),
    revoked: t.revokedAt !== '',
    revokeTime: time(t.revokedAt),
  };
}

export function rbacService(settings: Settings, deps: CallDeps): GrpcServiceBinding {
  const { accessControl, users, tokens } = settings;
  const impl: settingsV1.RbacServiceServer = {
    // No permission: the token under test is the credential. Denials are answers, not errors.
    checkPermission: unary(deps, 'CheckPermission', 'none', (req: settingsV1.CheckPermissionRequest) => {
      const wanted = permission.toDomain('permission', req.permission);
      const alternatives = req.alternatives.map((a, i) => permission.toDomain(`alternatives[${i}]`, a));
      const cacheTtl = { seconds: PERMISSION_CACHE_TTL_SECONDS, nanos: 0 };
      try {
        const decision = accessControl.check(req.token, wanted, alternatives);
        if (!decision.allowed && req.method) {
          const actor = { name: decision.principal.user, principalId: decision.principal.user, operation: req.method };
          settings.store.recordChange(actor, 'rpc', req.method, 'event', undefined, undefined, { outcome: 'DENIED', detail: decision.reason });
        }
        return { allowed: decision.allowed, principal: toProtoPrincipal(decision.principal), denialReason: decision.allowed ? '' : decision.reason, cacheTtl };
      } catch (err) {
        if (err instanceof DomainError) return { allowed: false, principal: undefined, denialReason: err.message, cacheTtl };
        throw err;
      }
    }),
    whoAmI: unary(deps, 'WhoAmI', 'any-valid-token', (_req, ctx) => {
      const principal = ctx.principal as Principal;
      return { principal: toProtoPrincipal(principal), permissions: [...permissionsOf(principal.roles)].map(permission.toProto) };
    }),
    listRoles: unary(deps, 'ListRoles', READ, () => ({
      roles: ROLES.map((r) => ({ role: role.toProto(r), permissions: [...ROLE_PERMISSIONS[r]].map(permission.toProto) })),
    })),
    createUser: unary(deps, 'CreateUser', WRITE, (req: settingsV1.CreateUserRequest, ctx) => ({
      user: toProtoUser(users.create(ctx.actor, req.name, req.roles.map(role.toDomain), req.displayName)),
    })),
    getUser: unary(deps, 'GetUser', READ, (req: settingsV1.GetUserRequest) => ({ user: toProtoUser(users.get(req.userId)) })),
    listUsers: unary(deps, 'ListUsers', READ, (req: settingsV1.ListUsersRequest) => {
      const { page, nextPageToken } = paginate(users.list(), req.pageSize, req.pageToken);
      return { users: page.map(toProtoUser), nextPageToken };
    }),
    updateUser: unary(deps, 'UpdateUser', WRITE, (req: settingsV1.UpdateUserRequest, ctx) => ({
      user: toProtoUser(
        users.update(ctx.actor, req.userId, { displayName: req.displayName, roles: req.roles.map(role.toDomain), disabled: req.disabled }),
      ),
    })),
    deleteUser: unary(deps, 'DeleteUser', WRITE, (req: settingsV1.DeleteUserRequest, ctx) => {
      users.delete(ctx.actor, req.userId);
      return {};
    }),
    createApiToken: unary(deps, 'CreateApiToken', WRITE, (req: settingsV1.CreateApiTokenRequest, ctx) => {
      const ttl = seconds('ttl', req.ttl);
      if (ttl !== undefined && ttl <= 0) throw new InvalidArgument('ttl', 'must be positive (unset = never expires)', ttl);
      const issued = tokens.create(ctx.actor, req.userId, req.name, ttl ?? null);
      return { token: toProtoToken(issued.info), secret: issued.token };
    }),
    listApiTokens: unary(deps, 'ListApiTokens', READ, (req: settingsV1.ListApiTokensRequest) => {
      const all = tokens.list(req.userId || undefined).filter((t) => req.includeRevoked || !t.revokedAt);
      const { page, nextPageToken } = paginate(all, req.pageSize, req.pageToken);
      return { tokens: page.map(toProtoToken), nextPageToken };
    }),
    revokeApiToken: unary(deps, 'RevokeApiToken', WRITE, (req: settingsV1.RevokeApiTokenRequest, ctx) => ({
      token: toProtoToken(tokens.revoke(ctx.actor, req.tokenId)),
    })),
  };
  return { definition: settingsV1.RbacServiceService, implementation: impl };
}
