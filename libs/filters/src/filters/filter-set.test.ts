// decide(): exactly which events each filter drops, the watchlist override and multi-module merge precedence.
import { describe, expect, it } from 'vitest';
import type { FilterEvent } from '../model';
import { parseWatchlist } from '../watchlist/parse-watchlist';
import { compileFilterSet, type FilterDecision } from './filter-set';
import { parseFilters } from './parse-filters';

const base = parseFilters({
  version: 1,
  defaults: { image: 'exclude' },
  rules: [
    { id: 'drop-cron', family: 'process', action: 'exclude', when: { all: [{ field: 'exe', endsWith: '/cron' }, { field: 'process.uid', equals: 0 }] } },
    { id: 'drop-tmp-writes', family: 'file', action: 'exclude', when: { field: 'path', beginsWith: ['/tmp/', '/var/tmp/'] } },
    { id: 'keep-tmp-scripts', family: 'file', action: 'include', when: { all: [{ field: 'path', beginsWith: '/tmp/' }, { field: 'path', endsWith: '.sh' }] } },
    { id: 'drop-loopback', family: 'network', action: 'exclude', when: { field: 'remote.address', cidr: ['127.0.0.0/8', '::1'] } },
    { id: 'drop-dns-lookups', family: 'network', action: 'exclude', when: { all: [{ field: 'remote.port', equals: 53 }, { field: 'operation', equals: 'connect' }] } },
  ],
});

const map = parseFilters(
  {
    rules: [
      { id: 'drop-etc-reads', family: 'file', action: 'exclude', when: { field: 'path', beginsWith: '/etc/' } },
      { id: 'keep-loopback-ssh', family: 'network', action: 'include', when: { all: [{ field: 'remote.address', cidr: '127.0.0.1' }, { field: 'remote.port', equals: 22 }] } },
      { id: 'drop-noisy-users', family: ['process', 'security'], action: 'exclude', when: { field: 'account', in: ['nobody', 'www-data'] } },
    ],
  },
  'map_filters.json',
);

const im = parseFilters({ defaults: { image: 'include' }, rules: [] }, 'im_filters.json');

const watchlist = parseWatchlist({ paths: ['/etc/', '/usr/bin'], exclusions: ['/etc/mtab'], operations: ['create', 'write', 'delete', 'rename'] });

const KEEP: FilterDecision = { keep: true, reason: 'default' };
const DROP_DEFAULT: FilterDecision = { keep: false, reason: 'default' };
const WATCHED: FilterDecision = { keep: true, reason: 'watchlist' };
const excluded = (ruleId: string, module?: string): FilterDecision => ({ keep: false, reason: 'exclude', ruleId, ...(module ? { module } : {}) });
const included = (ruleId: string, module?: string): FilterDecision => ({ keep: true, reason: 'include', ruleId, ...(module ? { module } : {}) });

describe.each([
  ['compiled', false],
  ['linear (DisableSignalsTrie)', true],
])('FilterSet.decide, %s', (_mode, disableSignalsTrie) => {
  describe('with filters.json only', () => {
    const set = compileFilterSet({ base }, { disableSignalsTrie });
    const cases: [string, FilterEvent, FilterDecision][] = [
      ['drops root cron', { family: 'process', exe: '/usr/sbin/cron', process: { uid: 0 } }, excluded('drop-cron')],
      ['keeps cron of another user', { family: 'process', exe: '/usr/sbin/cron', process: { uid: 1000 } }, KEEP],
      ['keeps root crond (suffix differs)', { family: 'process', exe: '/usr/sbin/crond', process: { uid: 0 } }, KEEP],
      ['keeps a cron event without a process context', { family: 'process', exe: '/usr/sbin/cron' }, KEEP],
      ['drops a write under /tmp/', { family: 'file', operation: 'write', path: '/tmp/x.log' }, excluded('drop-tmp-writes')],
      ['drops a write under /var/tmp/', { family: 'file', operation: 'write', path: '/var/tmp/y' }, excluded('drop-tmp-writes')],
      ['keeps a write to /tmpfile (not under /tmp/)', { family: 'file', operation: 'write', path: '/tmpfile' }, KEEP],
      ['keeps a script under /tmp/: include beats exclude', { family: 'file', operation: 'create', path: '/tmp/run.sh' }, included('keep-tmp-scripts')],
      ['drops a loopback IPv4 connection', { family: 'network', operation: 'connect', remote: { address: '127.0.0.53', port: 53 } }, excluded('drop-loopback')],
      ['drops a loopback IPv6 connection', { family: 'network', operation: 'connect', remote: { address: '::1', port: 8080 } }, excluded('drop-loopback')],
      ['drops a DNS connection (second rule)', { family: 'network', operation: 'connect', remote: { address: '8.8.8.8', port: 53 } }, excluded('drop-dns-lookups')],
      ['keeps a port-53 accept', { family: 'network', operation: 'accept', remote: { address: '8.8.8.8', port: 53 } }, KEEP],
      ['keeps an outside connection', { family: 'network', operation: 'connect', remote: { address: '93.184.216.34', port: 443 } }, KEEP],
      ['drops image loads by default', { family: 'image', path: '/usr/lib/libc.so.6' }, DROP_DEFAULT],
      ['keeps security events (no rules)', { family: 'security', account: 'nobody' }, KEEP],
      ['keeps events of a family it does not know', { family: 'kernel-module', path: '/tmp/x' }, KEEP],
      ['does not apply file rules to process events', { family: 'process', path: '/tmp/x' }, KEEP],
    ];
    it.each(cases)('%s', (_name, event, expected) => {
      expect(set.decide(event)).toEqual(expected);
    });

    it('takes the family from the argument when given, so events need not be copied', () => {
      expect(set.decide({ path: '/tmp/a' }, 'file')).toEqual(excluded('drop-tmp-writes'));
      expect(set.decide({ family: 'process', path: '/tmp/a' }, 'file')).toEqual(excluded('drop-tmp-writes'));
    });

    it('returns the same frozen decision object for the same rule', () => {
      const a = set.decide({ family: 'file', path: '/tmp/a' });
      expect(set.decide({ family: 'file', path: '/tmp/b' })).toBe(a);
      expect(Object.isFrozen(a)).toBe(true);
    });
  });

  describe('merged with module filters and the watchlist', () => {
    const set = compileFilterSet({ base, modules: [{ module: 'map', filters: map }, { module: 'im', filters: im }], watchlist }, { disableSignalsTrie });
    const cases: [string, FilterEvent, FilterDecision][] = [
      ['applies a module exclude', { family: 'process', exe: '/bin/ls', account: 'www-data' }, excluded('drop-noisy-users', 'map')],
      ['applies a module exclude to its second family', { family: 'security', account: 'nobody' }, excluded('drop-noisy-users', 'map')],
      ['still applies the base excludes', { family: 'process', exe: '/usr/sbin/cron', process: { uid: 0 } }, excluded('drop-cron')],
      ['a module include beats a base exclude', { family: 'network', operation: 'connect', remote: { address: '127.0.0.1', port: 22 } }, included('keep-loopback-ssh', 'map')],
      ['a base include still wins over a base exclude', { family: 'file', operation: 'write', path: '/tmp/run.sh' }, included('keep-tmp-scripts')],
      ['an include default in any module beats an exclude default', { family: 'image', path: '/usr/lib/libc.so.6' }, KEEP],
      ['the watchlist keeps a watched write a module excludes', { family: 'file', operation: 'write', path: '/etc/passwd' }, WATCHED],
      ['the watchlist keeps a write to a watched path with no trailing slash', { family: 'file', operation: 'delete', path: '/usr/bin/ssh' }, WATCHED],
      ['the watchlist keeps the watched directory itself', { family: 'file', operation: 'rename', path: '/usr/bin' }, WATCHED],
      ['the watchlist does not reach /usr/binary', { family: 'file', operation: 'write', path: '/usr/binary' }, KEEP],
      ['a rename out of a watched path is watched through oldPath', { family: 'file', operation: 'rename', path: '/tmp/shadow', oldPath: '/etc/shadow' }, WATCHED],
      ['a watchlist exclusion lets the module filter drop it', { family: 'file', operation: 'write', path: '/etc/mtab' }, excluded('drop-etc-reads', 'map')],
      ['an operation the watchlist does not watch is filtered as usual', { family: 'file', operation: 'chmod', path: '/etc/passwd' }, excluded('drop-etc-reads', 'map')],
      ['a file event without operation is filtered as usual', { family: 'file', path: '/etc/passwd' }, excluded('drop-etc-reads', 'map')],
      ['the watchlist only applies to file events', { family: 'process', operation: 'write', path: '/etc/passwd', exe: '/bin/x', account: 'nobody' }, excluded('drop-noisy-users', 'map')],
    ];
    it.each(cases)('%s', (_name, event, expected) => {
      expect(set.decide(event)).toEqual(expected);
    });

    it('lists every merged rule with the module it came from', () => {
      expect(set.provenance.filter((p) => p.family === 'file')).toEqual([
        { ruleId: 'drop-tmp-writes', action: 'exclude', family: 'file' },
        { ruleId: 'keep-tmp-scripts', action: 'include', family: 'file' },
        { ruleId: 'drop-etc-reads', module: 'map', action: 'exclude', family: 'file' },
      ]);
    });

    it('reports the earliest matching rule: base before modules, modules in the order given', () => {
      const first = parseFilters({ rules: [{ id: 'a', family: 'dns', action: 'exclude', when: { field: 'query', endsWith: '.local' } }] });
      const second = parseFilters({ rules: [{ id: 'a', family: 'dns', action: 'exclude', when: { field: 'query', endsWith: 'printer.local' } }] });
      const merged = compileFilterSet({ base: second, modules: [{ module: 'x', filters: first }] }, { disableSignalsTrie });
      expect(merged.decide({ family: 'dns', query: 'printer.local' })).toEqual(excluded('a'));
      expect(merged.decide({ family: 'dns', query: 'nas.local' })).toEqual(excluded('a', 'x'));
    });
  });

  it('drops everything of a family whose default is exclude except what an include keeps', () => {
    const allowList = parseFilters({
      defaults: { registry: 'exclude' },
      rules: [{ id: 'run-keys', family: 'registry', action: 'include', when: { field: 'key', contains: '\\CurrentVersion\\Run', ignoreCase: true } }],
    });
    const set = compileFilterSet({ base: allowList }, { disableSignalsTrie });
    expect(set.decide({ family: 'registry', key: 'HKLM\\Software\\Microsoft\\Windows\\currentversion\\run\\evil' })).toEqual(included('run-keys'));
    expect(set.decide({ family: 'registry', key: 'HKLM\\Software\\Vendor\\Settings' })).toEqual(DROP_DEFAULT);
  });
});
