// The dcctl program: global options, every command group, and the mapping of failures to exit codes.
import { Command, CommanderError, Option } from 'commander';
import { CliError, EXIT } from './client/cli-error';
import { ConfigFileError } from './config/config-file';
import { type Act, Ctx, type GlobalOptions, type Register } from './context';
import { type Io } from './output/output';
import { registerLogin } from './commands/login';
import { registerSetup } from './commands/setup';
import { registerConnection } from './commands/connection';
import { registerCertificates } from './commands/certificates';
import { registerGroups } from './commands/groups';
import { registerServiceAccount } from './commands/service-account';
import { registerHeartbeat } from './commands/heartbeat';
import { registerZoneProxies } from './commands/zone-proxies';
import { registerEndpoints } from './commands/endpoints';
import { registerSessions } from './commands/sessions';
import { registerTestConnection } from './commands/test-connection';
import { registerEvents } from './commands/events';
import { registerRecorder } from './commands/recorder';
import { registerSupport } from './commands/support';
import { registerLogLevel } from './commands/log-level';
import { registerUsers } from './commands/users';
import { registerUninstall } from './commands/uninstall';
import { registerHealth } from './commands/health';
import { VERSION } from '@dc/service-kit';

const GROUPS: Register[] = [
  registerLogin,
  registerSetup,
  registerConnection,
  registerCertificates,
  registerGroups,
  registerServiceAccount,
  registerHeartbeat,
  registerZoneProxies,
  registerEndpoints,
  registerSessions,
  registerTestConnection,
  registerEvents,
  registerRecorder,
  registerSupport,
  registerLogLevel,
  registerUsers,
  registerUninstall,
  registerHealth,
];

export interface RunOptions {
  now?: () => Date;
}

/** Runs dcctl with `argv` (without node and script) and returns the exit code. */
export async function runDcctl(argv: readonly string[], io: Io, options: RunOptions = {}): Promise<number> {
  let ctx: Ctx | undefined;
  const program = new Command('dcctl')
    .description('Operator CLI of Direct Connect: set-up, connection settings, certificates, zone proxies, endpoints, sessions, events, troubleshooting.')
    .version(VERSION)
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .configureHelp({ showGlobalOptions: true })
    .exitOverride()
    .option('--api <host:port>', 'module server API address (default 127.0.0.1:17480, or as saved by login)')
    .option('--settings <host:port>', 'settings service address (default 127.0.0.1:17481, or as saved by login)')
    .option('--ca <host:port>', 'certificate authority address (default 127.0.0.1:17482, or as saved by login)')
    .option('--ca-file <pem>', 'trust bundle (PEM) to check the servers\' TLS certificates (e.g. data/cert-authority/trust-bundle.pem)')
    .option('--tls-services <list>', 'services dialled with TLS, comma-separated: api,settings,ca or none (default: all three with --ca-file, none without)')
    .option('--tls-server-name <name>', 'name to check the server certificates against instead of the dialled host; one for all, or per service: settings=settings,ca=localhost')
    .option('--json', 'print the raw responses as JSON (proto3 JSON: enum names, RFC 3339 times)')
    .addOption(new Option('--timeout <duration>', 'deadline of each call, e.g. 15s (default 15s)'))
    .addHelpText(
      'after',
      '\nExit codes: 0 ok, 1 the operation failed (the server said no), 2 usage error, 3 cannot connect / unavailable, 4 not logged in or permission denied.\n' +
        'Configuration: $DCCTL_CONFIG, else $XDG_CONFIG_HOME/dcctl/config.json, else ~/.config/dcctl/config.json (mode 0600). $DCCTL_TOKEN overrides the saved token.\n',
    );

  const act: Act = (handler) =>
    async (...commanderArgs: unknown[]) => {
      const command = commanderArgs[commanderArgs.length - 1] as Command;
      const positional = commanderArgs.slice(0, -2).flatMap((a) => (Array.isArray(a) ? (a as string[]) : a === undefined ? [] : [a as string]));
      ctx = new Ctx(io, command.optsWithGlobals<GlobalOptions>(), options.now);
      await handler(ctx, command.opts() as Parameters<typeof handler>[1], positional);
    };

  for (const register of GROUPS) register(program, act);

  try {
    await program.parseAsync([...argv], { from: 'user' });
    return ctx?.exitCode ?? EXIT.OK;
  } catch (err) {
    if (err instanceof CommanderError) {
      return err.code === 'commander.helpDisplayed' || err.code === 'commander.version' ? EXIT.OK : EXIT.USAGE;
    }
    if (err instanceof CliError) {
      io.stderr.write(`error: ${err.message}\n`);
      if (err.hint) io.stderr.write(`hint: ${err.hint}\n`);
      return err.exitCode;
    }
    if (err instanceof ConfigFileError) {
      io.stderr.write(`error: ${err.message}\n`);
      return EXIT.USAGE;
    }
    io.stderr.write(`error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return EXIT.FAILED;
  } finally {
    ctx?.close();
  }
}
