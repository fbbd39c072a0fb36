// Process lifecycle: start, report the ports, and shut down gracefully on SIGTERM/SIGINT.
import type { Logger } from 'pino';
import { ConfigError } from './config';

export interface RunningService {
  /** Ports by name (e.g. { grpc: 17481, metrics: 9481 }), logged once started. */
  readonly ports: Readonly<Record<string, number | undefined>>;
  /** Stop accepting work, drain, close databases. Must not throw for a normal shutdown. */
  stop(): Promise<void>;
}

export interface RunServiceOptions {
  readonly name: string;
  readonly log: Logger;
  readonly start: () => Promise<RunningService>;
  /** After this long a shutdown that has not finished exits with code 1. */
  readonly shutdownTimeoutMs?: number;
}

/**
 * Starts the service and logs `service started` with its ports (tests and the dev runner read
 * that line). On SIGTERM or SIGINT: stop, then exit 0; a second signal or the timeout exits 1.
 */
export async function runService(opts: RunServiceOptions): Promise<void> {
  let running: RunningService;
  try {
    running = await opts.start();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${opts.name}: ${err.message}\n`);
      process.exit(2);
    }
    opts.log.fatal({ err }, 'service failed to start');
    process.stderr.write(`${opts.name}: failed to start: ${(err as Error).message}\n`);
    process.exit(1);
  }
  opts.log.info({ ports: running.ports }, 'service started');

  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      opts.log.warn({ signal }, 'second signal during shutdown; exiting now');
      process.exit(1);
    }
    stopping = true;
    opts.log.info({ signal }, 'shutting down');
    const timer = setTimeout(() => {
      opts.log.error({ timeoutMs: opts.shutdownTimeoutMs ?? 10_000 }, 'shutdown did not finish in time; exiting');
      process.exit(1);
    }, opts.shutdownTimeoutMs ?? 10_000);
    timer.unref();
    running.stop().then(
      () => {
        opts.log.info('service stopped');
        process.exit(0);
      },
      (err: unknown) => {
        opts.log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}
