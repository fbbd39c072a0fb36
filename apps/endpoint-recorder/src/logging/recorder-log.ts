// The recorder's root pino logger, writing to recorder.log with size rotation and a live level.
import pino, { type Logger } from 'pino';
import type { PinoLevel } from '../config/parameters';
import { RotatingFile } from './rotating-file';

export interface RecorderLog {
  readonly log: Logger;
  readonly file: RotatingFile | undefined;
  /** Changes the level for future lines (SPEC 1.7: a change affects future logging only). */
  setLevel(level: PinoLevel): void;
  close(): void;
}

const REDACT = ['token', '*.token', 'secret', '*.secret', 'password', '*.password', 'key', '*.privateKey'];

export function createRecorderLog(opts: { path?: string; maxSize: number; rotations: number; level: PinoLevel }): RecorderLog {
  const file = opts.path ? new RotatingFile({ path: opts.path, maxSize: opts.maxSize, rotations: opts.rotations }) : undefined;
  const children = new Set<WeakRef<Logger>>();
  const log = pino(
    {
      name: 'endpoint-recorder',
      level: opts.level,
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACT, censor: '[redacted]' },
      onChild: (child) => {
        children.add(new WeakRef(child));
      },
    },
    file ?? pino.destination({ dest: 2, sync: true }),
  );
  return {
    log,
    file,
    setLevel(level) {
      log.level = level;
      for (const ref of children) {
        const c = ref.deref();
        if (c) c.level = level;
        else children.delete(ref);
      }
    },
    close: () => file?.close(),
  };
}
