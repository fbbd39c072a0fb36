// Table-driven tests of the record parser: every line form found in real logs, and bad lines.
import { describe, expect, it } from 'vitest';
import { isParseError, parseRecord } from './parse-record';
import { decodeFieldValue, decodeProctitle } from './values';
import type { AuditRecord } from '../types';

function record(line: string): AuditRecord {
  const r = parseRecord(line, 7);
  if (isParseError(r)) throw new Error(`unexpected parse error: ${r.reason}`);
  return r;
}

describe('parseRecord', () => {
  it('reads type, timestamp in ms, serial and raw fields of a kernel record', () => {
    const r = record(
      'type=SYSCALL msg=audit(1615150974.493:21028): arch=c000003e syscall=59 success=yes exit=0 comm="echo" exe="/usr/bin/echo" key=(null)',
    );
    expect(r).toMatchObject({ type: 'SYSCALL', node: undefined, timestamp: 1615150974493, serial: 21028, line: 7 });
    expect(r.fields).toEqual({ arch: 'c000003e', syscall: '59', success: 'yes', exit: '0', comm: '"echo"', exe: '"/usr/bin/echo"', key: '(null)' });
    expect(r.get('exe')).toBe('"/usr/bin/echo"');
    expect(r.enriched).toBeUndefined();
  });

  it.each([
    ['node prefix', 'node=web-1 type=EOE msg=audit(1.001:2): ', { node: 'web-1', type: 'EOE', timestamp: 1001, serial: 2 }],
    ['missing colon after audit(…)', 'type=DAEMON_CONFIG msg=audit(1490239800.477:34) config changed, res=success', { type: 'DAEMON_CONFIG', serial: 34 }],
    ['leading blanks (records quoted in YAML)', '    type=EOE msg=audit(1.000:5):', { type: 'EOE', serial: 5 }],
    ['CRLF line end', 'type=CWD msg=audit(1.000:5): cwd="/tmp"\r\n', { type: 'CWD' }],
    ['numeric unknown type', 'type=UNKNOWN[1334] msg=audit(1626883065.201:216697): prog-id=45 op=UNLOAD', { type: 'UNKNOWN[1334]' }],
  ])('accepts %s', (_name, line, expected) => {
    expect(record(line)).toMatchObject(expected);
  });

  it('splits ENRICHED lines at 0x1D into raw fields and unquoted UPPERCASE interpretations', () => {
    const r = record('type=SYSCALL msg=audit(1.000:1): arch=c00000b7 syscall=64 uid=0\x1dARCH=aarch64 SYSCALL=write UID="root"');
    expect(r.fields).toEqual({ arch: 'c00000b7', syscall: '64', uid: '0' });
    expect(r.enriched).toEqual({ ARCH: 'aarch64', SYSCALL: 'write', UID: 'root' });
  });

  it('keeps an interpreted sockaddr in braces as one value, nested braces included', () => {
    const r = record('type=SOCKADDR msg=audit(1.000:1): saddr=01002F746D70\x1dSADDR={ fam=local path=/tmp/{x-1} }');
    expect(r.enriched).toEqual({ SADDR: '{ fam=local path=/tmp/{x-1} }' });
  });

  it("flattens a user-space msg='…' payload into the record's fields (header keys first)", () => {
    const r = record(
      "type=USER_LOGIN msg=audit(1.000:9): pid=1 uid=0 auid=1000 ses=3 msg='op=login id=1000 exe=\"/usr/sbin/sshd\" hostname=10.0.0.5 addr=10.0.0.5 terminal=/dev/pts/0 res=failed'",
    );
    expect(r.fields).toEqual({
      pid: '1', uid: '0', auid: '1000', ses: '3', op: 'login', id: '1000', exe: '"/usr/sbin/sshd"',
      hostname: '10.0.0.5', addr: '10.0.0.5', terminal: '/dev/pts/0', res: 'failed',
    });
  });

  it('ends the payload at its last quote, so quoted values may contain quotes', () => {
    const r = record("type=USER_AUTH msg=audit(1.000:1): pid=5 msg='op=PAM:authentication acct=\"f('x')\" res=failed'");
    expect(r.get('acct')).toBe('"f(\'x\')"');
    expect(r.get('res')).toBe('failed');
  });

  it('collects words without "=" as text (SELinux AVC wording)', () => {
    const r = record('type=AVC msg=audit(1.000:1): avc:  denied  { setuid } for  pid=15381 comm="laurel" capability=7');
    expect(r.text).toBe('avc: denied { setuid } for');
    expect(r.get('pid')).toBe('15381');
  });

  it('keeps the first of duplicate keys and is safe with prototype names as keys', () => {
    const r = record('type=X msg=audit(1.000:1): a=1 a=2 constructor=3 __proto__=4 toString=5');
    expect(r.get('a')).toBe('1');
    expect(r.fields.a).toBe('1');
    expect(r.fields.constructor).toBe('3');
    expect(r.fields.toString).toBe('5');
    expect(Object.getPrototypeOf(r.fields)).toBe(Object.prototype);
  });

  it('serialises records with their fields', () => {
    const r = record('type=CWD msg=audit(1.000:1): cwd="/"');
    expect(JSON.parse(JSON.stringify(r))).toMatchObject({ type: 'CWD', fields: { cwd: '"/"' } });
  });

  it.each([
    ['', 'missing "type=" at the start of the record'],
    ['hello world', 'missing "type=" at the start of the record'],
    ['type=SYSCALL', 'missing "msg=audit(" after the record type'],
    ['type=SYSCALL msg=foo', 'missing "msg=audit(" after the record type'],
    ['type=SYSCALL msg=audit(abc.123:4): x=1', 'audit(SECONDS.MILLIS:SERIAL): seconds are not a number'],
    ['type=SYSCALL msg=audit(1.x:4): x=1', 'audit(SECONDS.MILLIS:SERIAL): milliseconds are not a number'],
    ['type=SYSCALL msg=audit(1.000:): x=1', 'audit(SECONDS.MILLIS:SERIAL): serial is not a number'],
    ['type=SYSCALL msg=audit(99999999999999999999.000:1): x=1', 'audit(SECONDS.MILLIS:SERIAL): number out of range'],
    ['node=abc', 'line has "node=" but nothing after it'],
  ])('rejects %j: %s', (line, reason) => {
    const r = parseRecord(line, 3);
    expect(isParseError(r)).toBe(true);
    expect(r).toEqual({ line: 3, reason, text: line });
  });

  it('cuts the text of a rejected line to 200 characters', () => {
    const r = parseRecord('x'.repeat(5000), 1);
    expect(isParseError(r) && r.text.length).toBe(200);
  });
});

describe('decodeFieldValue', () => {
  it.each([
    ['"/bin/ls"', '/bin/ls'],
    ['2F62696E2F6C73', '/bin/ls'],
    ['2f62696e', '/bin'],
    ['(null)', '(null)'],
    ['?', '?'],
    ['123', '123'], // odd length: not hex
    ['"unterminated', 'unterminated'],
    ['C3A9', 'é'],
  ])('%s → %s', (raw, text) => {
    expect(decodeFieldValue(raw)).toBe(text);
  });

  it('shows PROCTITLE argv separated by spaces without trailing NULs', () => {
    expect(decodeProctitle('2F62696E2F6563686F00610000')).toBe('/bin/echo a');
    expect(decodeProctitle('"bash"')).toBe('bash');
  });
});
