// What every command handler gets: output, the resolved configuration and a lazy connection.
import { readFileSync } from 'node:fs';
import { type Command } from 'commander';
import { CliError, EXIT, type ExitCode } from './client/cli-error';
import { Connection, type ServiceKey } from './client/connection';
import { configPath, DEFAULT_ADDRESSES, type DcctlConfig, readConfig } from './config/config-file';
import { type Io, Output } from './output/output';
import { parseDurationSeconds } from './parse';

/** Options every command accepts (defined on the root program). */
export interface GlobalOptions {
  api?: string;
  settings?: string;
  ca?: string;
  caFile?: string;
  tlsServerName?: string;
  json?: boolean;
  timeout?: string;
  tlsServices?: string;
}

export class Ctx {
  readonly out: Output;
  readonly configPath: string;
  /** Set by a handler whose result is a failure without an exception (e.g. a diagnosis). */
  exitCode: ExitCode = EXIT.OK;
  private cachedConfig?: DcctlConfig;
  private connection?: Connection;

  constructor(
    readonly io: Io,
    readonly globals: GlobalOptions,
    /** Injected clock, for "ago" columns. */
    readonly now: () => Date = () => new Date(),
  ) {
    this.out = new Output(io, Boolean(globals.json));
    this.configPath = configPath(io.env);
  }

  get config(): DcctlConfig {
    this.cachedConfig ??= readConfig(this.configPath);
    return this.cachedConfig;
  }

  /** Address of a service: flag, else config file, else the default port on 127.0.0.1. */
  address(service: ServiceKey): string {
    return this.globals[service] ?? this.config[service] ?? DEFAULT_ADDRESSES[service];
  }

  caFile(): string | undefined {
    return this.globals.caFile ?? this.config.caFile;
  }

  /** Services dialled with TLS: --tls (or the saved list); by default all of them when a trust bundle is given, none otherwise. */
  tlsServices(): Set<ServiceKey> {
    const list = this.globals.tlsServices ?? this.config.tlsServices;
    if (list === undefined) return new Set(this.caFile() ? (['api', 'settings', 'ca'] as const) : []);
    const out = new Set<ServiceKey>();
    for (const word of list.split(',').map((w) => w.trim()).filter(Boolean)) {
      if (word === 'none') continue;
      if (word !== 'api' && word !== 'settings' && word !== 'ca') throw new CliError(`--tls-services "${list}": each entry must be api, settings or ca (or "none")`, EXIT.USAGE);
      out.add(word);
    }
    return out;
  }

  /** --tls-server-name: one name for every service, or per service: "settings=settings,ca=localhost". */
  tlsServerNames(): Partial<Record<ServiceKey, string>> {
    const text = this.globals.tlsServerName ?? this.config.tlsServerName;
    if (!text) return {};
    if (!text.includes('=')) return { api: text, settings: text, ca: text };
    const out: Partial<Record<ServiceKey, string>> = {};
    for (const pair of text.split(',').map((p) => p.trim()).filter(Boolean)) {
      const [key, name] = pair.split('=');
      if ((key !== 'api' && key !== 'settings' && key !== 'ca') || !name) {
        throw new CliError(`--tls-server-name "${text}": each entry must be <api|settings|ca>=<name>, or give one name for all`, EXIT.USAGE);
      }
      out[key] = name;
    }
    return out;
  }

  timeoutMs(): number {
    return this.globals.timeout ? parseDurationSeconds('--timeout', this.globals.timeout) * 1000 : 15_000;
  }

  conn(): Connection {
    if (!this.connection) {
      const caFile = this.caFile();
      let caPem: string | undefined;
      if (caFile) {
        try {
          caPem = readFileSync(caFile, 'utf8');
        } catch (err) {
          throw new CliError(`--ca-file "${caFile}": cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`, EXIT.USAGE);
        }
      }
      this.connection = new Connection({
        addresses: { api: this.address('api'), settings: this.address('settings'), ca: this.address('ca') },
        token: this.io.env.DCCTL_TOKEN || this.config.token,
        caPem,
        tlsServices: this.tlsServices(),
        tlsServerNames: this.tlsServerNames(),
        timeoutMs: this.timeoutMs(),
      });
    }
    return this.connection;
  }

  close(): void {
    this.connection?.close();
  }
}

/** A command's handler: the context, its own options, its positional arguments. */
export type Handler<O> = (ctx: Ctx, opts: O, args: string[]) => Promise<void>;

/** Wraps a handler as a commander action (set by the program; see program.ts). */
export type Act = <O>(handler: Handler<O>) => (...commanderArgs: unknown[]) => Promise<void>;

/** Registers one command group on the program. */
export type Register = (program: Command, act: Act) => void;
