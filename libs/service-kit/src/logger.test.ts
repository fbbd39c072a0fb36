import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
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
