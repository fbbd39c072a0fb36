// Composition root of the endpoint recorder: parses the command line and runs one command.
import { Command, CommanderError } from 'commander';
import { FilterValidationError } from '@dc/filters';
import { MonitorDbError } from '@dc/monitor-db';
import { AuditPlumbingError } from './audit-plumbing/install-audit';
import {
  installAuditCommand,
  recreateDbCommand,
  replayCommand,
  runCommand,
  startCommand,
  statusCommand,
  stopCommand,
  uninstallAuditCommand,
} from './cli/commands';
import { connectCommand, doctorCommand, PackageError } from './cli/connect';
import { ConfigError } from './config/load-config';

/** The tools directory (SPEC 2.3): where recorder.json lives; the operator runs the recorder from it. */
const defaultConfigDir = () => process.env.RECORDER_CONFIG_DIR ?? process.cwd();

function program(): Command {
  const p = new Command('recorder')
    .description('Endpoint recorder: audit events into monitor.db (SPEC 2)')
    .option('--config <dir>', 'directory holding recorder.json (default: current directory)')
    .option('--audit-root <dir>', 'root of the audit configuration files', '/')
    .option('--json', 'print JSON')
    .option('--start', 'start the recorder again after a stop (clears DisableTrace)')
    .option('--stop', 'stop recording (sets DisableTrace)')
    .option('--status', 'show running/stopped and why, database size, events, drops, auditd presence')
    .option('--recreate-db', 'move monitor.db aside and create a fresh one')
    .option('--check', 'with --status: also check monitor.db for corruption (SPEC 2.10.2)')
    .showHelpAfterError()
    .exitOverride();
  const common = () => {
    const o = p.opts<{ config?: string; auditRoot: string; json?: boolean }>();
    return { config: o.config ?? defaultConfigDir(), auditRoot: o.auditRoot, json: o.json };
  };

  p.action(async () => {
    const o = p.opts<{ start?: boolean; stop?: boolean; status?: boolean; recreateDb?: boolean; check?: boolean }>();
    const chosen = [o.start, o.stop, o.status, o.recreateDb].filter(Boolean).length;
    if (chosen !== 1) {
      p.error('choose one of --start, --stop, --status, --recreate-db, or a command (see --help)');
    }
    if (o.start) process.exitCode = startCommand(common());
    else if (o.stop) process.exitCode = stopCommand(common());
    else if (o.status) process.exitCode = statusCommand({ ...common(), check: o.check });
    else process.exitCode = recreateDbCommand(common());
  });

  p.command('replay <file>')
    .description('ingest an audit log into monitor.db and exit, printing events per family, dropped and malformed counts, events/s')
    .option('--config <dir>', 'directory holding recorder.json')
    .option('--json', 'print JSON')
    .option('--hash-exe', "hash executables named in the log (only when replaying this machine's own log)")
    .action(async (file: string, o: { config?: string; json?: boolean; hashExe?: boolean }) => {
      const c = common();
      process.exitCode = await replayCommand(file, { ...c, config: o.config ?? c.config, json: o.json ?? c.json, hashExe: o.hashExe });
    });

  p.command('run')
    .description('record in the foreground: audit text from stdin (audispd plugin) or --follow a log file')
    .option('--config <dir>', 'directory holding recorder.json')
    .option('--follow <file>', 'follow an audit.log across rotation instead of reading stdin')
    .option('--from-start', 'with --follow: read the file from its beginning')
    .action(async (o: { config?: string; follow?: string; fromStart?: boolean }) => {
      const c = common();
      process.exitCode = await runCommand({ ...c, config: o.config ?? c.config, follow: o.follow, fromStart: o.fromStart });
    });

  p.command('plugin <configDir>')
    .description('started by audispd (plugins.d/trace.conf: args = plugin DIR): records events from stdin')
    .action(async (dir: string) => {
      process.exitCode = await runCommand({ ...common(), config: dir });
    });

  p.command('connect')
    .description('connect this endpoint to Direct Connect with its package (configuration.json): enrol, control channel, answer sessions')
    .option('--config <dir>', 'tools directory holding recorder.json, configuration.json and identity/')
    .option('--configuration <file>', "the package's configuration.json (default: <config>/configuration.json)")
    .option('--server-name <name>', "name in the module server's certificate, when it differs from the package's FQDN")
    .option('--host-name <name>', 'host name to report (default: this machine’s)')
    .action(async (o: { config?: string; configuration?: string; serverName?: string; hostName?: string }) => {
      const c = common();
      const code = await connectCommand({ ...c, config: o.config ?? c.config, configuration: o.configuration, serverName: o.serverName, hostName: o.hostName });
      // Stopped cleanly (channel and sessions closed, db closed): gRPC's idle handles must not keep the process up.
      process.exit(code);
    });

  p.command('doctor')
    .description('check the way to the module server step by step, on every route of the package (SPEC 3.5)')
    .option('--config <dir>', 'tools directory holding recorder.json, configuration.json and identity/')
    .option('--configuration <file>', "the package's configuration.json (default: <config>/configuration.json)")
    .option('--server-name <name>', "name in the module server's certificate, when it differs from the package's FQDN")
    .option('--json', 'print JSON')
    .action(async (o: { config?: string; configuration?: string; serverName?: string; json?: boolean }) => {
      const c = common();
      process.exitCode = await doctorCommand({ ...c, config: o.config ?? c.config, json: o.json ?? c.json, configuration: o.configuration, serverName: o.serverName });
    });

  p.command('install-audit')
    .description('set up the audit plumbing (SPEC 2.3): plugin config, q_depth 32768, raw logging, rules before -e 2')
    .option('--config <dir>', 'directory holding recorder.json')
    .option('--root <dir>', 'root directory of /etc/audit and /etc/audisp', '/')
    .option('--recorder-path <path>', 'executable audispd starts (default: <config>/recorder)')
    .option('--dry-run', 'print the unified diff and write nothing')
    .option('--json', 'print JSON')
    .action((o: { config?: string; root: string; recorderPath?: string; dryRun?: boolean; json?: boolean }) => {
      const c = common();
      process.exitCode = installAuditCommand({ ...c, config: o.config ?? c.config, json: o.json ?? c.json, root: o.root, recorderPath: o.recorderPath, dryRun: o.dryRun });
    });

  p.command('uninstall-audit')
    .description('restore the *.pretrace backups and remove the plugin config')
    .option('--root <dir>', 'root directory of /etc/audit and /etc/audisp', '/')
    .option('--dry-run', 'print the unified diff and write nothing')
    .option('--json', 'print JSON')
    .action((o: { root: string; dryRun?: boolean; json?: boolean }) => {
      const c = common();
      process.exitCode = uninstallAuditCommand({ ...c, json: o.json ?? c.json, root: o.root, dryRun: o.dryRun });
    });
  return p;
}

/** Errors an operator can act on are printed as one clear message; anything else is a bug. */
function report(err: unknown): number {
  if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
  if (err instanceof ConfigError || err instanceof PackageError || err instanceof FilterValidationError || err instanceof AuditPlumbingError || err instanceof MonitorDbError) {
    process.stderr.write(`recorder: ${err.message}\n`);
    return 1;
  }
  process.stderr.write(`recorder: unexpected error: ${(err as Error)?.stack ?? String(err)}\n`);
  return 1;
}

program()
  .parseAsync(process.argv)
  .catch((err: unknown) => {
    process.exitCode = report(err);
  });
