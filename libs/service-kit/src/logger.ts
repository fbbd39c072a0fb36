// The process's root pino logger, whose level can be changed while running (SPEC 1.7).
import pino, { type DestinationStream, type Logger } from 'pino';
import { type LogLevel, LOG_LEVELS } from './config';
import { LogRing, type LogRingOptions } from './log-ring';

/** Paths never written to logs: tokens, secrets, keys, passwords, at any depth we use. */
export const REDACT_PATHS = [
  'token', '*.token', 'secret', '*.secret', 'password', '*.password', 'privateKey', '*.privateKey',
  'key', '*.key', 'authorization', '*.authorization', 'headers.authorization', 'metadata.authorization',
  'provisionSecret', '*.provisionSecret', 'provisionPayload', '*.provisionPayload', 'enrolmentToken', '*.enrolmentToken',
];

export interface RootLogger {
  readonly log: Logger;
  /** Changes the level of the root logger and of every child made from it; affects future lines only. */
  setLevel(level: LogLevel): void;
  level(): LogLevel;
  /** The most recent lines written (redacted, JSON, oldest first), for the support package (SPEC 1.7.1). */
  recent(): string[];
  /** The in-memory ring behind recent(); absent when createLogger was told `recentLines: false`. */
  readonly ring?: LogRing;
}

export interface CreateLoggerOptions {
  readonly name: string;
  readonly level?: LogLevel;
  /** Defaults to stdout (fd 1), synchronously, so lines survive a crash. */
  readonly destination?: DestinationStream;
  /** Extra redaction paths on top of REDACT_PATHS. */
  readonly redact?: readonly string[];
  /** Bounds of the in-memory ring of recent lines (default 5000 lines / 4 MiB); false keeps none. */
  readonly recentLines?: LogRingOptions | false;
}

// Every level reaches both streams: the logger's own (live) level is the only filter.
const ALL_LEVELS = 'trace';

export function createLogger(options: CreateLoggerOptions): RootLogger {
  // pino children copy the parent's level when made; track them so a live change reaches all.
  const children = new Set<WeakRef<Logger>>();
  const ring = options.recentLines === false ? undefined : new LogRing(options.recentLines);
  const destination = options.destination ?? pino.destination({ dest: 1, sync: true });
  const log = pino(
    {
      name: options.name,
      level: options.level ?? 'info',
      base: { service: options.name, pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: [...REDACT_PATHS, ...(options.redact ?? [])], censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label }) },
      onChild: (child) => {
        children.add(new WeakRef(child));
      },
    },
    // The ring gets the very bytes the destination gets, so it holds what redaction left.
    ring ? pino.multistream([{ stream: destination, level: ALL_LEVELS }, { stream: ring, level: ALL_LEVELS }]) : destination,
  );
  return {
    log,
    setLevel(level) {
      if (!LOG_LEVELS.includes(level)) throw new Error(`log level "${String(level)}" must be one of ${LOG_LEVELS.join(', ')}`);
      log.level = level;
      for (const ref of children) {
        const child = ref.deref();
        if (child) child.level = level;
        else children.delete(ref);
      }
    },
    level: () => log.level as LogLevel,
    recent: () => ring?.recent() ?? [],
    ring,
  };
}
