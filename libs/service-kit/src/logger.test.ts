import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { LogRing } from './log-ring';
import { createLogger } from './logger';

function sink() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { lines, stream };
}

describe('createLogger', () => {
  it('changes the level of the root and of existing children while running', () => {
    const { lines, stream } = sink();
    const root = createLogger({ name: 't', level: 'info', destination: stream });
    const child = root.log.child({ endpointId: 'e1' });
    child.debug('hidden');
    root.setLevel('debug');
    child.debug('shown');
    root.log.debug('shown too');
    root.setLevel('error');
    child.warn('hidden again');
    expect(lines.map((l) => l.msg)).toEqual(['shown', 'shown too']);
    expect(lines[0]).toMatchObject({ level: 'debug', service: 't', endpointId: 'e1' });
    expect(root.level()).toBe('error');
  });

  it('never writes tokens, secrets or keys', () => {
    const { lines, stream } = sink();
    const { log } = createLogger({ name: 't', destination: stream });
    log.info({ token: 'tok-123', req: { secret: 's3cr3t', password: 'pw' }, keyPem: 'fine' }, 'call');
    const text = JSON.stringify(lines);
    expect(text).not.toMatch(/tok-123|s3cr3t|"pw"/);
    expect(lines[0]).toMatchObject({ token: '[redacted]', req: { secret: '[redacted]' } });
  });

  it('refuses a level outside the SPEC 1.7 list', () => {
    const root = createLogger({ name: 't', destination: sink().stream });
    expect(() => root.setLevel('verbose' as never)).toThrow(/must be one of trace, debug, info, warn, error, fatal/);
  });
});

describe('recent log lines (SPEC 1.7.1)', () => {
  it('keeps the same redacted lines the destination gets, at every live level', () => {
    const { lines, stream } = sink();
    const root = createLogger({ name: 't', level: 'info', destination: stream });
    const child = root.log.child({ sessionId: 's1' });
    child.debug('hidden');
    root.setLevel('debug');
    child.debug('shown');
    root.log.info({ authorization: 'Bearer abc.def', req: { password: 'pw-1' }, key: 'k-1' }, 'call');
    const recent = root.recent();
    expect(recent).toEqual(lines.map((l) => JSON.stringify(l)));
    expect(recent.map((l) => (JSON.parse(l) as { msg: string }).msg)).toEqual(['shown', 'call']);
    expect(recent.join('\n')).not.toMatch(/abc\.def|pw-1|k-1/);
    expect(JSON.parse(recent[1]!)).toMatchObject({ authorization: '[redacted]', req: { password: '[redacted]' }, key: '[redacted]' });
  });

  it('keeps none when asked not to', () => {
    const root = createLogger({ name: 't', destination: sink().stream, recentLines: false });
    root.log.info('x');
    expect(root.recent()).toEqual([]);
    expect(root.ring).toBeUndefined();
  });
});

describe('LogRing', () => {
  it('keeps the newest lines within the line bound, oldest first', () => {
    const ring = new LogRing({ maxLines: 3 });
    for (let i = 1; i <= 7; i++) ring.write(`{"n":${i}}\n`);
    expect(ring.recent()).toEqual(['{"n":5}', '{"n":6}', '{"n":7}']);
    expect(ring.stats()).toEqual({ lines: 3, bytes: 21, dropped: 4 });
    ring.write('');
    ring.write('\n');
    ring.write('{"n":8}\n{"n":9}\n');
    expect(ring.recent()).toEqual(['{"n":7}', '{"n":8}', '{"n":9}']);
  });

  it('keeps the newest lines within the byte bound, and drops a line larger than the bound', () => {
    const ring = new LogRing({ maxLines: 100, maxBytes: 20 });
    ring.write('aaaaaaaaaa\n'); // 10 bytes
    ring.write('bbbbbbbbbb\n');
    ring.write('cccccc\n'); // 26 > 20: the oldest goes
    expect(ring.recent()).toEqual(['bbbbbbbbbb', 'cccccc']);
    ring.write(`${'x'.repeat(21)}\n`);
    expect(ring.recent()).toEqual(['bbbbbbbbbb', 'cccccc']);
    ring.write('é'.repeat(10)); // 20 bytes in UTF-8
    expect(ring.recent()).toEqual(['é'.repeat(10)]);
    expect(ring.stats()).toMatchObject({ lines: 1, bytes: 20, dropped: 4 });
  });

  it('stays bounded under a logger writing far more than it keeps', () => {
    const root = createLogger({ name: 't', destination: sink().stream, recentLines: { maxLines: 1000, maxBytes: 64 * 1024 } });
    for (let i = 0; i < 20_000; i++) root.log.info({ i, pad: 'p'.repeat(100) }, 'line');
    const s = root.ring!.stats();
    expect(s.bytes).toBeLessThanOrEqual(64 * 1024);
    expect(s.lines).toBeLessThanOrEqual(1000);
    expect(s.lines + s.dropped).toBe(20_000);
    expect(JSON.parse(root.recent().at(-1)!)).toMatchObject({ i: 19_999 });
  });

  it('refuses bounds that are not whole positive numbers', () => {
    expect(() => new LogRing({ maxLines: 0 })).toThrow(/maxLines 0 must be a whole number of at least 1/);
    expect(() => new LogRing({ maxBytes: 1.5 })).toThrow(/maxBytes 1.5 must be/);
  });
});
