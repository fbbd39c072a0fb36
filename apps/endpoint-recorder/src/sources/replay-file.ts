// Replays an audit log file once, for demos, tests and `recorder replay`.
import { createReadStream } from 'node:fs';
import { linesOf } from './line-splitter';

/** Every line of a file, in batches, then done. */
export function replayFile(path: string): AsyncGenerator<string[]> {
  return linesOf(createReadStream(path, { highWaterMark: 256 * 1024 }));
}
