// dcctl service-account show / set: the identity the services' background work runs as (SPEC 1.4.3).
import { writeFileSync } from 'node:fs';
import { settingsV1 } from '@dc/proto';
import { type Ctx, type Register } from '../context';
import { time } from '../output/output';
import { parseDuration } from '../parse';

function printAccount(ctx: Ctx, a: settingsV1.ServiceAccount | undefined): void {
  if (!a || !a.principalId) {
    ctx.out.line('no service account yet: dcctl service-account set --name svc-direct-connect');
    return;
  }
  ctx.out.fields([
    ['name', a.name],
    ['principal id', a.principalId],
    ['configured', a.configured ? 'yes' : 'NO (no valid token)'],
    ['token id', a.tokenId || '-'],
    ['token expires', a.tokenExpireTime ? time(a.tokenExpireTime) : 'never'],
    ['re-entry required', a.reentryRequired ? 'YES: the installed version changed; run dcctl service-account set again (SPEC 1.4.3)' : 'no'],
  ]);
}

export const registerServiceAccount: Register = (program, act) => {
  const sa = program.command('service-account').description('The service account that runs background work (Cron Exec); re-enter it after each upgrade (SPEC 1.4.3).');

  sa.command('show')
    .description('Show the service account (never its token).')
    .action(
      act(async (ctx) => {
        const res = await ctx.conn().unary(settingsV1.SetupServiceService.getServiceAccount, 'SETTINGS_READ', settingsV1.GetServiceAccountRequest.fromPartial({}));
        ctx.out.result(settingsV1.GetServiceAccountResponse.toJSON(res), () => printAccount(ctx, res.serviceAccount));
      }),
    );

  sa.command('set')
    .description('Set or re-enter the service account: issues a new token (shown once) and revokes the previous one.')
    .requiredOption('--name <name>', 'account name, e.g. svc-direct-connect')
    .option('--ttl <duration>', 'token lifetime, e.g. 365d (default: no expiry)')
    .option('--token-out <file>', 'write the new token to this file (mode 0600) instead of printing it')
    .action(
      act<{ name: string; ttl?: string; tokenOut?: string }>(async (ctx, opts) => {
        const res = await ctx.conn().unary(
          settingsV1.SetupServiceService.setServiceAccount,
          'SETTINGS_WRITE',
          settingsV1.SetServiceAccountRequest.fromPartial({ name: opts.name, tokenTtl: opts.ttl ? parseDuration('--ttl', opts.ttl) : undefined }),
        );
        if (opts.tokenOut) writeFileSync(opts.tokenOut, `${res.token}\n`, { mode: 0o600 });
        const json = settingsV1.SetServiceAccountResponse.toJSON(res) as Record<string, unknown>;
        if (opts.tokenOut) delete json.token;
        ctx.out.result(json, () => {
          printAccount(ctx, res.serviceAccount);
          ctx.out.line();
          if (opts.tokenOut) ctx.out.line(`token written to ${opts.tokenOut} (mode 0600); give it to the services (DC_SERVICE_TOKEN)`);
          else ctx.out.line(`token (shown once; give it to the services, e.g. DC_SERVICE_TOKEN): ${res.token}`);
        });
      }),
    );
};
