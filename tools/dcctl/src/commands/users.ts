// dcctl users / roles / tokens: RBAC principals, the SPEC 1.3 role table and API tokens.
import { writeFileSync } from 'node:fs';
import { commonV1, settingsV1 } from '@dc/proto';
import { usageError } from '../client/cli-error';
import { type Ctx, type Register } from '../context';
import { enumLabel, enumWords, time } from '../output/output';
import { parseDuration, parseEnumList } from '../parse';

const ROLE = (v: number) => enumLabel(commonV1.Role, 'ROLE_', v);
const PERMISSION = (v: number) => enumLabel(commonV1.Permission, 'PERMISSION_', v);
const rolesHelp = `comma-separated roles: ${enumWords(commonV1.Role, 'ROLE_').join(', ')}`;

async function listUsers(ctx: Ctx): Promise<settingsV1.User[]> {
  const all: settingsV1.User[] = [];
  let pageToken = '';
  do {
    const res = await ctx.conn().unary(settingsV1.RbacServiceService.listUsers, 'SETTINGS_READ', settingsV1.ListUsersRequest.fromPartial({ pageSize: 1000, pageToken }));
    all.push(...res.users);
    pageToken = res.nextPageToken;
  } while (pageToken);
  return all;
}

/** A user by id or login name. */
async function findUser(ctx: Ctx, idOrName: string): Promise<settingsV1.User> {
  const found = (await listUsers(ctx)).find((u) => u.userId === idOrName || u.name === idOrName);
  if (!found) throw usageError(`user "${idOrName}": no user has this id or name`, 'dcctl users list shows them');
  return found;
}

const userRow = (u: settingsV1.User) => [u.userId, u.name, u.displayName || '-', u.roles.map(ROLE).join(','), u.disabled ? 'yes' : 'no', time(u.createTime)];
const USER_HEADERS = ['ID', 'NAME', 'DISPLAY NAME', 'ROLES', 'DISABLED', 'CREATED'];

export const registerUsers: Register = (program, act) => {
  const users = program.command('users').description('Users and their roles (SPEC 1.3).');

  users
    .command('list')
    .description('Users by name.')
    .action(
      act(async (ctx) => {
        const list = await listUsers(ctx);
        ctx.out.result({ users: list.map((u) => settingsV1.User.toJSON(u)) }, () => ctx.out.table(USER_HEADERS, list.map(userRow)));
      }),
    );

  users
    .command('show <user>')
    .description('One user, by id or name.')
    .action(
      act(async (ctx, _o, [idOrName]) => {
        const u = await findUser(ctx, idOrName!);
        ctx.out.result(settingsV1.User.toJSON(u), () => ctx.out.table(USER_HEADERS, [userRow(u)]));
      }),
    );

  users
    .command('create <name>')
    .description('Create a user.')
    .requiredOption('--roles <list>', rolesHelp)
    .option('--display-name <text>', 'display name')
    .action(
      act<{ roles: string; displayName?: string }>(async (ctx, o, [name]) => {
        const roles = parseEnumList(commonV1.Role, 'ROLE_', '--roles', o.roles);
        const res = await ctx.conn().unary(settingsV1.RbacServiceService.createUser, 'SETTINGS_WRITE', settingsV1.CreateUserRequest.fromPartial({ name, displayName: o.displayName ?? '', roles }));
        ctx.out.result(settingsV1.CreateUserResponse.toJSON(res), () => {
          ctx.out.line(`user ${res.user?.name ?? name} created (${res.user?.userId ?? '?'})`);
          ctx.out.line(`give them a token with: dcctl tokens create ${res.user?.name ?? name} --name "<what for>"`);
        });
      }),
    );

  users
    .command('update <user>')
    .description('Change a user\'s roles, display name, or disable/enable them.')
    .option('--roles <list>', rolesHelp)
    .option('--display-name <text>', 'display name')
    .option('--disable', 'disable: their tokens are refused')
    .option('--enable', 'enable again')
    .action(
      act<{ roles?: string; displayName?: string; disable?: boolean; enable?: boolean }>(async (ctx, o, [idOrName]) => {
        if (o.disable && o.enable) throw usageError('give --disable or --enable, not both');
        const u = await findUser(ctx, idOrName!);
        const res = await ctx.conn().unary(
          settingsV1.RbacServiceService.updateUser,
          'SETTINGS_WRITE',
          settingsV1.UpdateUserRequest.fromPartial({
            userId: u.userId,
            displayName: o.displayName ?? '',
            roles: o.roles ? parseEnumList(commonV1.Role, 'ROLE_', '--roles', o.roles) : [],
            disabled: o.disable ? true : o.enable ? false : undefined,
          }),
        );
        ctx.out.result(settingsV1.UpdateUserResponse.toJSON(res), () => res.user && ctx.out.table(USER_HEADERS, [userRow(res.user)]));
      }),
    );

  users
    .command('delete <user>')
    .description('Delete a user and revoke their tokens.')
    .action(
      act(async (ctx, _o, [idOrName]) => {
        const u = await findUser(ctx, idOrName!);
        await ctx.conn().unary(settingsV1.RbacServiceService.deleteUser, 'SETTINGS_WRITE', settingsV1.DeleteUserRequest.fromPartial({ userId: u.userId }));
        ctx.out.result({ userId: u.userId, name: u.name, deleted: true }, () => ctx.out.line(`user ${u.name} (${u.userId}) deleted; their tokens are revoked`));
      }),
    );

  program
    .command('roles')
    .description('The roles and the permissions each grants (SPEC 1.3).')
    .action(
      act(async (ctx) => {
        const res = await ctx.conn().unary(settingsV1.RbacServiceService.listRoles, 'SETTINGS_READ', settingsV1.ListRolesRequest.fromPartial({}));
        ctx.out.result(settingsV1.ListRolesResponse.toJSON(res), () => ctx.out.table(['ROLE', 'PERMISSIONS'], res.roles.map((r) => [ROLE(r.role), r.permissions.map(PERMISSION).join(', ')])));
      }),
    );

  const tokens = program.command('tokens').description('API tokens (bearer tokens for dcctl, modules and the console).');

  tokens
    .command('list')
    .description('Tokens, without secrets.')
    .option('--user <user>', 'only this user\'s (id or name)')
    .option('--include-revoked', 'include revoked tokens')
    .action(
      act<{ user?: string; includeRevoked?: boolean }>(async (ctx, o) => {
        const userId = o.user ? (await findUser(ctx, o.user)).userId : '';
        const res = await ctx.conn().unary(settingsV1.RbacServiceService.listApiTokens, 'SETTINGS_READ', settingsV1.ListApiTokensRequest.fromPartial({ pageSize: 1000, userId, includeRevoked: Boolean(o.includeRevoked) }));
        ctx.out.result(settingsV1.ListApiTokensResponse.toJSON(res), () =>
          ctx.out.table(
            ['TOKEN', 'USER', 'NAME', 'CREATED', 'EXPIRES', 'LAST USED', 'REVOKED'],
            res.tokens.map((t) => [t.tokenId, t.userId, t.name, time(t.createTime), t.expireTime ? time(t.expireTime) : 'never', time(t.lastUsedTime), t.revoked ? time(t.revokeTime) : 'no']),
          ),
        );
      }),
    );

  tokens
    .command('create <user>')
    .description('Create an API token for a user (id or name); the secret is shown once, or written to --out.')
    .requiredOption('--name <text>', 'what it is for, e.g. "dcctl on laptop"')
    .option('--ttl <duration>', 'lifetime, up to 2 years, e.g. 90d (default: never expires)')
    .option('--out <file>', 'write the secret to this file (mode 0600) instead of printing it')
    .action(
      act<{ name: string; ttl?: string; out?: string }>(async (ctx, o, [idOrName]) => {
        const u = await findUser(ctx, idOrName!);
        const res = await ctx.conn().unary(
          settingsV1.RbacServiceService.createApiToken,
          'SETTINGS_WRITE',
          settingsV1.CreateApiTokenRequest.fromPartial({ userId: u.userId, name: o.name, ttl: o.ttl ? parseDuration('--ttl', o.ttl) : undefined }),
        );
        if (o.out) writeFileSync(o.out, `${res.secret}\n`, { mode: 0o600 });
        const json = settingsV1.CreateApiTokenResponse.toJSON(res) as Record<string, unknown>;
        if (o.out) delete json.secret;
        ctx.out.result(json, () => {
          ctx.out.line(`token ${res.token?.tokenId ?? '?'} created for ${u.name}`);
          if (o.out) ctx.out.line(`secret written to ${o.out} (mode 0600); log in with: dcctl login --token-file ${o.out}`);
          else ctx.out.line(`secret (shown once): ${res.secret}`);
        });
      }),
    );

  tokens
    .command('revoke <token-id>')
    .description('Revoke a token (idempotent): refused from now on.')
    .action(
      act(async (ctx, _o, [tokenId]) => {
        const res = await ctx.conn().unary(settingsV1.RbacServiceService.revokeApiToken, 'SETTINGS_WRITE', settingsV1.RevokeApiTokenRequest.fromPartial({ tokenId }));
        ctx.out.result(settingsV1.RevokeApiTokenResponse.toJSON(res), () => ctx.out.line(`token ${tokenId} revoked`));
      }),
    );
};
