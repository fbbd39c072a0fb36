// Streaming API: chunks split anywhere, Node Readables, and the malformed-line report.
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { parseAuditStream } from './parse-stream';
import type { AuditEvent } from '../types';

const LOG = [
  'type=SYSCALL msg=audit(1.000:1): arch=c000003e syscall=59 success=yes exit=0 pid=5 comm="é" exe="/bin/ls"',
  'type=EXECVE msg=audit(1.000:1): argc=2 a0="ls" a1="/tmp/é"',
  'not a record',
  'type=EOE msg=audit(1.000:1): ',
  "type=USER_LOGIN msg=audit(2.000:2): pid=1 uid=0 msg='op=login acct=\"root\" res=success'",
  'type=SYSCALL msg=audit(3.000:3): arch=c000003e syscall=42 success=no exit=-111 pid=6',
].join('\n');

async function all(stream: AsyncIterable<AuditEvent>): Promise<AuditEvent[]> {
  const out: AuditEvent[] = [];
  for await (const e of stream) out.push(e);
  return out;
}

describe('parseAuditStream', () => {
  it('yields the same events however the bytes are chunked, UTF-8 split included', async () => {
    const bytes = Buffer.from(LOG, 'utf8');
    const whole = await all(parseAuditStream(Readable.from([bytes])));
    for (const size of [1, 2, 3, 7, 64]) {
      const chunks: Buffer[] = [];
      for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
      const events = await all(parseAuditStream(Readable.from(chunks)));
      expect(events.map((e) => JSON.stringify({ ...e, records: undefined }))).toEqual(
        whole.map((e) => JSON.stringify({ ...e, records: undefined })),
      );
    }
    expect(whole.map((e) => e.kind)).toEqual(['process-start', 'security', 'network']);
    expect(whole[0]).toMatchObject({ argv: ['ls', '/tmp/é'], process: { comm: 'é' } });
  });

  it('accepts an async iterable of strings and reports malformed lines with stats', async () => {
    async function* lines(): AsyncGenerator<string> {
      yield LOG.slice(0, 50);
      yield LOG.slice(50);
    }
    const reported: number[] = [];
    const stream = parseAuditStream(lines(), { onError: (e) => reported.push(e.line) });
    const events = await all(stream);
    expect(events).toHaveLength(3);
    expect(stream.stats).toMatchObject({ lines: 6, records: 5, events: 3, malformed: 1 });
    expect(stream.errors).toEqual([{ line: 3, reason: 'missing "type=" at the start of the record', text: 'not a record' }]);
    expect(reported).toEqual([3]);
  });

  it('skips and reports a line over maxLineLength without holding it, keeping the events around it', async () => {
    const huge = 'type=PROCTITLE msg=audit(1.000:1): proctitle=' + '41'.repeat(600);
    const pieces = [LOG.split('\n')[0] + '\n', huge.slice(0, 500), huge.slice(500) + '\n', 'type=EOE msg=audit(1.000:1):\n', huge];
    const stream = parseAuditStream(pieces, { maxLineLength: 1000 });
    const events = await all(stream);
    expect(events.map((e) => e.recordTypes)).toEqual([['SYSCALL', 'EOE']]);
    expect(stream.errors.map((e) => [e.line, e.reason])).toEqual([
      [2, 'line longer than 1000 characters'],
      [4, 'line longer than 1000 characters'],
    ]);
  });
});
