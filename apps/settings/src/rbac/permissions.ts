// Roles and permissions: exactly the table of SPEC 1.3.

export const PERMISSIONS = [
  'SHOW_DIRECT_CONNECT',
  'SESSION_READ',
  'SESSION_WRITE',
  'SETTINGS_READ',
  'SETTINGS_WRITE',
  'LOGS_READ',
  'CRON_EXEC',
] as const;
export type Permission = (typeof PERMISSIONS)[number];

export const ROLES = ['ADMINISTRATOR', 'READ_ONLY_USER', 'SERVICE_ACCOUNT', 'USER'] as const;
export type Role = (typeof ROLES)[number];

/** SPEC 1.3, row by row. */
export const ROLE_PERMISSIONS: Readonly<Record<Role, ReadonlySet<Permission>>> = {
  ADMINISTRATOR: new Set<Permission>([
    'SHOW_DIRECT_CONNECT',
    'SESSION_READ',
    'SESSION_WRITE',
    'SETTINGS_READ',
    'SETTINGS_WRITE',
    'LOGS_READ',
  ]),
  READ_ONLY_USER: new Set<Permission>(['SHOW_DIRECT_CONNECT', 'SESSION_READ', 'SETTINGS_READ']),
  SERVICE_ACCOUNT: new Set<Permission>(['CRON_EXEC']),
  USER: new Set<Permission>(['SHOW_DIRECT_CONNECT', 'SESSION_READ', 'SESSION_WRITE', 'SETTINGS_READ', 'LOGS_READ']),
};

export function roleAllows(role: Role, permission: Permission): boolean {
  return ROLE_PERMISSIONS[role].has(permission);
}
