// dcctl login / logout / whoami: the bearer token and server addresses in the per-user config file.
import { readFileSync } from 'node:fs';
import { commonV1, settingsV1 } from '@dc/proto';
import { CliError, usageError } from '../client/cli-error';
import { writeConfig, type DcctlConfig } from '../config/config-file';
import { Ctx, type Register } from '../context';
import { enumLabel } from '../output/output';

async function readStdin(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

async function whoAmI(ctx: Ctx): Promise<settingsV1.WhoAmIResponse> {
  return ctx.conn().unary(settingsV1.RbacServiceService.whoAmI, undefined, settingsV1.WhoAmIRequest.fromPartial({}));
}

function principalLine(res: settingsV1.WhoAmIResponse): string {
  const p = res.principal;
  const roles = (p?.roles ?? []).map((r) => enumLabel(commonV1.Role, 'ROLE_', r)).join(', ');
  return `${p?.name ?? '?'} (id ${p?.principalId ?? '?'}; roles ${roles || 'none'})`;
}

export const registerLogin: Register = (program, act) => {
  program
    .command('login')
    .summary('Log in with an API token (saved 0600, never printed).')
    .description('Log in with an API token: checks it against settings (WhoAmI) and saves it with the server addresses and TLS choices given (--api, --settings, --ca, --ca-file, --tls-services) in the config file, mode 0600. The token is never printed.')
    .option('--token-file <path>', 'read the token from this file')
    .option('--token <->', 'read the token from stdin: pass "-"')
    .option('--no-verify', 'save without checking the token against settings')
    .action(
      act<{ tokenFile?: string; token?: string; verify: boolean }>(async (ctx, opts) => {
        let raw: string;
        if (opts.tokenFile && opts.token) throw usageError('give either --token-file or --token -, not both');
        if (opts.tokenFile) {
          try {
            raw = readFileSync(opts.tokenFile, 'utf8');
          } catch (err) {
            throw usageError(`--token-file "${opts.tokenFile}": cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
          }
        } else if (opts.token === '-') {
          raw = await readStdin(ctx.io.stdin);
        } else if (opts.token !== undefined) {
          throw usageError('--token takes only "-" (read from stdin), so the token stays out of shell history and process lists', 'echo "$TOKEN" | dcctl login --token -   or   dcctl login --token-file <file>');
        } else {
          throw usageError('no token given', 'dcctl login --token-file <file>   or   dcctl login --token - < file');
        }
        const token = raw.trim();
        if (!token || /\s/.test(token)) throw usageError('the token must be one non-empty word (got an empty or multi-word value)');

        const next: DcctlConfig = { ...ctx.config, token };
        for (const key of ['api', 'settings', 'ca', 'caFile', 'tlsServerName', 'tlsServices'] as const) {
          const value = ctx.globals[key];
          if (value !== undefined) next[key] = value;
        }
        // Verify with the new token before saving, so a typo does not replace a working login.
        const probe = new Ctx(
          { ...ctx.io, env: { ...ctx.io.env, DCCTL_TOKEN: token } },
          ctx.globals,
          ctx.now,
        );
        let who: settingsV1.WhoAmIResponse | undefined;
        if (opts.verify) {
          try {
            who = await whoAmI(probe);
          } catch (err) {
            if (err instanceof CliError) throw new CliError(`${err.message} (not saved)`, err.exitCode, err.hint, err.grpcCode);
            throw err;
          } finally {
            probe.close();
          }
        }
        writeConfig(ctx.configPath, next);
        const result = { configPath: ctx.configPath, verified: opts.verify, principal: who ? settingsV1.WhoAmIResponse.toJSON(who) : undefined };
        ctx.out.result(result, () => {
          ctx.out.line(who ? `logged in as ${principalLine(who)}` : 'token saved without verification');
          ctx.out.line(`saved to ${ctx.configPath}`);
        });
      }),
    );

  program
    .command('logout')
    .description('Remove the saved token from the config file (addresses stay).')
    .action(
      act(async (ctx) => {
        const { token: _removed, ...rest } = ctx.config;
        writeConfig(ctx.configPath, rest);
        ctx.out.result({ configPath: ctx.configPath, loggedOut: true }, () => ctx.out.line(`token removed from ${ctx.configPath}`));
      }),
    );

  program
    .command('whoami')
    .description('Show who the saved token belongs to and its permissions (SPEC 1.3).')
    .action(
      act(async (ctx) => {
        const res = await whoAmI(ctx);
        ctx.out.result(settingsV1.WhoAmIResponse.toJSON(res), () => {
          ctx.out.fields([
            ['principal', principalLine(res)],
            ['token id', res.principal?.tokenId || '-'],
            ['permissions', res.permissions.map((p) => enumLabel(commonV1.Permission, 'PERMISSION_', p)).join(', ') || 'none'],
          ]);
        });
      }),
    );
};

