// Event assembly: completion on EOE, grace and timeout; interleaving; the open-event cap.
import { describe, expect, it } from 'vitest';
import { AuditAssembler } from './assembler';
import type { AuditEvent, AuditParseError } from '../types';

const rec = (type: string, serial: number, seconds = 1000, node?: string, fields = 'x=1'): string =>
  `${node !== undefined ? `node=${node} ` : ''}type=${type} msg=audit(${seconds}.000:${serial}): ${fields}`;

function collect(options: ConstructorParameters<typeof AuditAssembler>[1] = {}) {
  const events: AuditEvent[] = [];
  const errors: AuditParseError[] = [];
  const asm = new AuditAssembler({ onEvent: (e) => events.push(e), onError: (e) => errors.push(e) }, options);
  return { asm, events, errors };
}

describe('AuditAssembler', () => {
  it('completes an event on its EOE record', () => {
    const { asm, events } = collect();
    asm.push(rec('SYSCALL', 1));
    asm.push(rec('CWD', 1));
    expect(events).toHaveLength(0);
    asm.push(rec('EOE', 1));
    expect(events.map((e) => e.recordTypes)).toEqual([['SYSCALL', 'CWD', 'EOE']]);
    expect(asm.openEvents).toBe(0);
  });

  it('assembles interleaved events by (node, timestamp, serial)', () => {
    const { asm, events } = collect();
    asm.push(rec('SYSCALL', 1));
    asm.push(rec('SYSCALL', 2));
    asm.push(rec('SYSCALL', 1, 1000, 'b'));
    asm.push(rec('PATH', 1));
    asm.push(rec('EOE', 2));
    asm.push(rec('EOE', 1));
    asm.push(rec('EOE', 1, 1000, 'b'));
    expect(events.map((e) => [e.node, e.serial, e.recordTypes.join(',')])).toEqual([
      [undefined, 2, 'SYSCALL,EOE'],
      [undefined, 1, 'SYSCALL,PATH,EOE'],
      ['b', 1, 'SYSCALL,EOE'],
    ]);
  });

  it('completes an event without EOE once stream time moved past the grace', () => {
    const { asm, events } = collect({ graceMs: 2000 });
    asm.push(rec('SYSCALL', 1, 1000));
    asm.push(rec('SYSCALL', 2, 1001));
    expect(events).toHaveLength(0);
    asm.push(rec('SYSCALL', 3, 1003));
    expect(events.map((e) => e.serial)).toEqual([1]);
  });

  it('completes an event without EOE once enough newer events opened', () => {
    const { asm, events } = collect({ graceEvents: 3 });
    for (let s = 1; s <= 4; s++) asm.push(rec('SYSCALL', s));
    expect(events.map((e) => e.serial)).toEqual([1]);
    asm.push(rec('PATH', 2)); // a late record still joins its open event
    asm.push(rec('SYSCALL', 5));
    expect(events.map((e) => [e.serial, e.recordTypes.join(',')])).toEqual([[1, 'SYSCALL'], [2, 'SYSCALL,PATH']]);
  });

  it('emits a user-space message as a whole event at once', () => {
    const { asm, events } = collect();
    asm.push(rec('USER_LOGIN', 7, 1000, undefined, "pid=1 msg='op=login acct=\"a\" res=success'"));
    expect(events.map((e) => e.kind)).toEqual(['security']);
  });

  it('completes open events after the timeout by the injected clock', () => {
    let now = 0;
    const { asm, events } = collect({ timeoutMs: 5000, clock: () => now });
    asm.push(rec('SYSCALL', 1));
    now = 4999;
    asm.expire();
    expect(events).toHaveLength(0);
    now = 5000;
    asm.expire();
    expect(events.map((e) => e.serial)).toEqual([1]);
    expect(events[0].incomplete).toBe(false);
    expect(asm.stats.timedOut).toBe(1);
  });

  it('bounds memory: beyond the cap the oldest open event is emitted incomplete and counted', () => {
    const { asm, events } = collect({ maxOpenEvents: 2, graceEvents: 1000 });
    for (let s = 1; s <= 5; s++) asm.push(rec('SYSCALL', s));
    expect(asm.openEvents).toBe(2);
    expect(events.map((e) => [e.serial, e.incomplete])).toEqual([[1, true], [2, true], [3, true]]);
    expect(asm.stats.evictedIncomplete).toBe(3);
  });

  it('reports malformed lines with their line number and keeps the events around them', () => {
    const { asm, events, errors } = collect();
    asm.push(rec('SYSCALL', 1));
    asm.push('garbage in the middle');
    asm.push('');
    asm.push(rec('EOE', 1));
    asm.push('type=SYSCALL msg=audit(x.1:2): a=1');
    asm.push(rec('SYSCALL', 3));
    asm.flush();
    expect(events.map((e) => [e.serial, e.recordTypes.length])).toEqual([[1, 2], [3, 1]]);
    expect(errors.map((e) => [e.line, e.reason])).toEqual([
      [2, 'missing "type=" at the start of the record'],
      [5, 'audit(SECONDS.MILLIS:SERIAL): seconds are not a number'],
    ]);
    expect(asm.stats).toMatchObject({ lines: 6, records: 3, events: 2, malformed: 2 });
    expect(asm.errors).toEqual(errors);
  });

  it('keeps at most maxErrorsKept errors but counts them all', () => {
    const { asm, errors } = collect({ maxErrorsKept: 2 });
    for (let i = 0; i < 5; i++) asm.push('bad');
    expect(asm.errors).toHaveLength(2);
    expect(errors).toHaveLength(5);
    expect(asm.stats.malformed).toBe(5);
  });

  it('emits every open event on flush', () => {
    const { asm, events } = collect();
    asm.push(rec('SYSCALL', 1));
    asm.push(rec('SYSCALL', 2, 1000, 'n2'));
    asm.flush();
    expect(events.map((e) => e.serial).sort()).toEqual([1, 2]);
    expect(asm.openEvents).toBe(0);
  });
});
