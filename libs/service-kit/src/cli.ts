// The command line every server app shares: --config, --log-level, --help, --version.
import { Command, Option } from 'commander';
import { LOG_LEVELS, type LogLevel } from './config';
import { VERSION } from './version';

export interface ServiceCliOptions {
  readonly config?: string;
  readonly logLevel?: LogLevel;
}

/**
 * A commander program for a server app. `envPrefix` is shown in --help so operators know how
 * to override keys from the environment. Apps add their own options or subcommands.
 */
export function serviceProgram(opts: { name: string; description: string; envPrefix: string; configHelp?: string }): Command {
  return new Command(opts.name)
    .description(opts.description)
    .version(VERSION)
    .option('-c, --config <file>', 'configuration file (.json, .yaml or .yml)')
    .addOption(new Option('--log-level <level>', 'log level (changeable later while running)').choices([...LOG_LEVELS]))
    .addHelpText(
      'after',
      `\nConfiguration: defaults < --config file < environment < flags.\n` +
        `Environment: ${opts.envPrefix}<KEY>, with "__" between nesting levels, e.g. ${opts.envPrefix}GRPC__PORT=0.\n` +
        (opts.configHelp ? `\n${opts.configHelp}\n` : ''),
    );
}
