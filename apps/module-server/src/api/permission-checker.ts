// RBAC for the module API (SPEC 1.3): every call names one permission; the checker (the settings
// service's CheckPermission, declared here as what we need) decides with the caller's token.
import { PermissionDenied, Unauthenticated } from '@dc/service-kit';
import type { Metadata } from '@grpc/grpc-js';

/** SPEC 1.3 permissions, as named in the contract (dc.common.v1.Permission without prefix). */
export type Permission = 'SHOW_DIRECT_CONNECT' | 'SESSION_READ' | 'SESSION_WRITE' | 'SETTINGS_READ' | 'SETTINGS_WRITE' | 'LOGS_READ' | 'CRON_EXEC';

export interface Principal {
  readonly principalId: string;
  readonly name: string;
}

export type PermissionVerdict =
  | { readonly allowed: true; readonly principal: Principal }
  | { readonly allowed: false; readonly principal?: Principal; readonly reason: string };

export interface PermissionChecker {
  /** token is the bearer token without "Bearer "; empty when the call carried none. */
  check(token: string, permission: Permission, method: string): Promise<PermissionVerdict>;
}

/** The bearer token from `authorization: Bearer <token>` metadata, or ''. */
export function bearerToken(metadata: Metadata): string {
  const v = metadata.get('authorization')[0];
  const s = typeof v === 'string' ? v : v?.toString('utf8') ?? '';
  const m = /^Bearer\s+(.+)$/i.exec(s.trim());
  return m ? m[1]!.trim() : '';
}

/** Resolves the principal, or throws Unauthenticated / PermissionDenied with the reason. */
export async function authorize(checker: PermissionChecker, metadata: Metadata, permission: Permission, method: string): Promise<Principal> {
  const token = bearerToken(metadata);
  if (!token) throw new Unauthenticated(`${method} needs a bearer token (metadata "authorization: Bearer <token>")`);
  const verdict = await checker.check(token, permission, method);
  if (verdict.allowed) return verdict.principal;
  if (!verdict.principal) throw new Unauthenticated(`token refused: ${verdict.reason}`);
  throw new PermissionDenied(`${verdict.principal.name} may not call ${method}: it needs the ${permission} permission (${verdict.reason})`);
}

/** SPEC 1.3 roles and what each grants. */
export const ROLE_PERMISSIONS: Record<'ADMINISTRATOR' | 'READ_ONLY_USER' | 'SERVICE_ACCOUNT' | 'USER', readonly Permission[]> = {
  ADMINISTRATOR: ['SHOW_DIRECT_CONNECT', 'SESSION_READ', 'SESSION_WRITE', 'SETTINGS_READ', 'SETTINGS_WRITE', 'LOGS_READ'],
  READ_ONLY_USER: ['SHOW_DIRECT_CONNECT', 'SESSION_READ', 'SETTINGS_READ'],
  SERVICE_ACCOUNT: ['CRON_EXEC'],
  USER: ['SHOW_DIRECT_CONNECT', 'SESSION_READ', 'SESSION_WRITE', 'SETTINGS_READ', 'LOGS_READ'],
};

/** Tokens mapped to roles in memory: for tests and development without the settings service. */
export class StaticPermissions implements PermissionChecker {
  constructor(private readonly tokens: Record<string, keyof typeof ROLE_PERMISSIONS>) {}
  async check(token: string, permission: Permission): Promise<PermissionVerdict> {
    const role = this.tokens[token];
    if (!role) return { allowed: false, reason: 'unknown token' };
    const principal = { principalId: `static:${role.toLowerCase()}`, name: role.toLowerCase() };
    return ROLE_PERMISSIONS[role].includes(permission) ? { allowed: true, principal } : { allowed: false, principal, reason: `role ${role} lacks ${permission}` };
  }
}
