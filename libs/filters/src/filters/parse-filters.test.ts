// Table-driven tests of filters.json, watchlist.json and signals.json validation.
import { describe, expect, it } from 'vitest';
import { FilterValidationError } from '../errors';
import { parseSignals } from '../signals/parse-signals';
import { parseWatchlist } from '../watchlist/parse-watchlist';
import { parseFilters } from './parse-filters';

type Expected = { path: string; rule: unknown; value?: unknown };

function issuesOf(parse: () => unknown): Expected[] {
  try {
    parse();
  } catch (error) {
    expect(error).toBeInstanceOf(FilterValidationError);
    return [...(error as FilterValidationError).issues];
  }
  throw new Error('expected a FilterValidationError');
}

const when = { field: 'exe', endsWith: '/cron' };

describe('parseFilters', () => {
  it('reads a complete document into its normalised form', () => {
    const doc = parseFilters(
      JSON.stringify({
        version: 1,
        description: 'noise we do not keep',
        defaults: { image: 'exclude', process: 'include' },
        rules: [
          { id: 'drop-cron', description: 'cron wakes every minute', family: 'process', action: 'exclude', when },
          { id: 'keep-sshd', family: ['process', 'network'], action: 'include', when: { field: 'exe', equals: '/usr/sbin/sshd' } },
        ],
      }),
    );
    expect(doc).toEqual({
      version: 1,
      defaults: { image: 'exclude', process: 'include' },
      rules: [
        {
          id: 'drop-cron',
          description: 'cron wakes every minute',
          families: ['process'],
          action: 'exclude',
          when: { kind: 'test', field: 'exe', op: 'endsWith', value: ['/cron'], ignoreCase: false },
        },
        {
          id: 'keep-sshd',
          families: ['process', 'network'],
          action: 'include',
          when: { kind: 'test', field: 'exe', op: 'equals', value: ['/usr/sbin/sshd'], ignoreCase: false },
        },
      ],
    });
  });

  it('accepts an empty document: no rules, no defaults', () => {
    expect(parseFilters('{}')).toEqual({ version: 1, defaults: {}, rules: [] });
  });

  const cases: [string, unknown, Expected[]][] = [
    ['invalid JSON', '{"rules": [', [{ path: '$', rule: expect.stringMatching(/^must be valid JSON/) }]],
    ['a document that is an array', [], [{ path: '$', rule: 'must be an object', value: [] }]],
    ['an unknown top-level key', { rulez: [] }, [{ path: '$.rulez', rule: 'unknown key; allowed keys: version, description, defaults, rules', value: [] }]],
    ['another version', { version: 2 }, [{ path: '$.version', rule: 'must be 1 (the only version of this language)', value: 2 }]],
    ['rules that are not an array', { rules: {} }, [{ path: '$.rules', rule: 'must be an array of rules', value: {} }]],
    ['a default for an unknown family', { defaults: { kernel: 'exclude' } }, [
      { path: '$.defaults.kernel', rule: 'unknown key; allowed keys: process, file, network, security, dns, registry, image', value: 'exclude' },
    ]],
    ['a bad default action', { defaults: { image: 'drop' } }, [{ path: '$.defaults.image', rule: 'must be one of include, exclude', value: 'drop' }]],
    ['a rule missing its keys', { rules: [{}] }, [
      { path: '$.rules[0].id', rule: 'is required' },
      { path: '$.rules[0].family', rule: 'is required' },
      { path: '$.rules[0].action', rule: 'is required' },
      { path: '$.rules[0].when', rule: 'is required' },
    ]],
    ['an unknown rule key', { rules: [{ id: 'a', family: 'file', action: 'exclude', when, enabled: true }] }, [
      { path: '$.rules[0].enabled', rule: 'unknown key; allowed keys: id, description, family, action, when', value: true },
    ]],
    ['an unknown family', { rules: [{ id: 'a', family: 'kernel', action: 'exclude', when }] }, [
      { path: '$.rules[0].family', rule: 'must be one of process, file, network, security, dns, registry, image', value: 'kernel' },
    ]],
    ['an unknown family in a list', { rules: [{ id: 'a', family: ['file', 'kernel'], action: 'exclude', when }] }, [
      { path: '$.rules[0].family[1]', rule: 'must be one of process, file, network, security, dns, registry, image', value: 'kernel' },
    ]],
    ['a family listed twice', { rules: [{ id: 'a', family: ['file', 'file'], action: 'exclude', when }] }, [
      { path: '$.rules[0].family[1]', rule: 'is listed twice', value: 'file' },
    ]],
    ['an empty family list', { rules: [{ id: 'a', family: [], action: 'exclude', when }] }, [
      { path: '$.rules[0].family', rule: 'must be one of process, file, network, security, dns, registry, image, or a non-empty array of them', value: [] },
    ]],
    ['an unknown action', { rules: [{ id: 'a', family: 'file', action: 'drop', when }] }, [
      { path: '$.rules[0].action', rule: 'must be one of include, exclude', value: 'drop' },
    ]],
    ['an id with spaces', { rules: [{ id: 'drop cron', family: 'file', action: 'exclude', when }] }, [
      { path: '$.rules[0].id', rule: 'must not contain spaces', value: 'drop cron' },
    ]],
    ['an id that is a number', { rules: [{ id: 7, family: 'file', action: 'exclude', when }] }, [
      { path: '$.rules[0].id', rule: 'must be a non-empty string', value: 7 },
    ]],
    ['duplicate ids', { rules: [{ id: 'a', family: 'file', action: 'exclude', when }, { id: 'b', family: 'file', action: 'exclude', when }, { id: 'a', family: 'file', action: 'include', when }] }, [
      { path: '$.rules[2].id', rule: 'duplicate id; first used at $.rules[0].id', value: 'a' },
    ]],
    ['a bad condition, with the path into it', { rules: [{ id: 'a', family: 'network', action: 'exclude', when: { all: [{ field: 'remote.address', cidr: '10.0.0.0/8' }, { field: 'remote.port', in: [] }] } }] }, [
      { path: '$.rules[0].when.all[1].in', rule: 'must be a non-empty array of strings, numbers or booleans', value: [] },
    ]],
    ['an empty description', { description: '' }, [{ path: '$.description', rule: 'must be a non-empty string', value: '' }]],
  ];
  it.each(cases)('rejects %s', (_name, input, expected) => {
    expect(issuesOf(() => parseFilters(input))).toEqual(expected);
  });

  it('collects the problems of every rule rather than stopping at the first', () => {
    const issues = issuesOf(() =>
      parseFilters({
        rules: [
          { id: 'a', family: 'proc', action: 'exclude', when },
          { id: 'b', family: 'file', action: 'exclude', when: { field: 'path', regex: '(' } },
          { id: 'c', family: 'file', action: 'keep', when },
        ],
      }),
    );
    expect(issues.map((i) => i.path)).toEqual(['$.rules[0].family', '$.rules[1].when.regex', '$.rules[2].action']);
  });

  it('names the file it was given in the error', () => {
    expect(() => parseFilters({ rules: 1 }, 'map_filters.json')).toThrow(/^map_filters\.json: 1 problem:\n {2}\$\.rules 1: must be an array of rules$/);
  });
});

describe('parseWatchlist', () => {
  it('reads paths, exclusions and operations', () => {
    expect(parseWatchlist('{"paths": ["/etc/", "C:\\\\Windows\\\\"], "exclusions": ["/etc/mtab"], "operations": ["write", "delete", "write"]}')).toEqual({
      version: 1,
      paths: ['/etc/', 'C:\\Windows\\'],
      exclusions: ['/etc/mtab'],
      operations: ['write', 'delete'],
    });
  });

  it('watches every file operation when operations are left out', () => {
    expect(parseWatchlist({ paths: ['/etc'] }).operations).toEqual(['create', 'write', 'delete', 'rename', 'chmod', 'chown', 'link']);
  });

  const cases: [string, unknown, Expected[]][] = [
    ['a missing paths key', {}, [{ path: '$.paths', rule: 'is required' }]],
    ['paths that are not a list', { paths: '/etc/' }, [{ path: '$.paths', rule: 'must be an array of strings', value: '/etc/' }]],
    ['a relative path', { paths: ['etc/'] }, [{ path: '$.paths[0]', rule: 'must be an absolute path like /etc/ or C:\\Windows\\', value: 'etc/' }]],
    ['an empty exclusion', { paths: [], exclusions: [''] }, [{ path: '$.exclusions[0]', rule: 'must be a non-empty string', value: '' }]],
    ['an unknown operation', { paths: [], operations: ['write', 'open'] }, [
      { path: '$.operations[1]', rule: 'must be one of create, write, delete, rename, chmod, chown, link', value: 'open' },
    ]],
    ['an empty operation list', { paths: [], operations: [] }, [
      { path: '$.operations', rule: 'must be a non-empty array of create, write, delete, rename, chmod, chown, link (leave it out to watch all)', value: [] },
    ]],
    ['an unknown key', { paths: [], recursive: true }, [{ path: '$.recursive', rule: 'unknown key; allowed keys: version, paths, exclusions, operations', value: true }]],
  ];
  it.each(cases)('rejects %s', (_name, input, expected) => {
    expect(issuesOf(() => parseWatchlist(input))).toEqual(expected);
  });
});

describe('parseSignals', () => {
  const signal = { id: 'shell-from-tmp', name: 'Shell started from /tmp', severity: 'high', family: 'process', when: { field: 'exe', beginsWith: '/tmp/' } };

  it('reads a signal with its defaults filled', () => {
    expect(parseSignals({ signals: [signal] }).signals).toEqual([
      {
        id: 'shell-from-tmp',
        name: 'Shell started from /tmp',
        severity: 'high',
        families: ['process'],
        tags: [],
        when: { kind: 'test', field: 'exe', op: 'beginsWith', value: ['/tmp/'], ignoreCase: false },
      },
    ]);
  });

  const cases: [string, unknown, Expected[]][] = [
    ['a missing signals key', {}, [{ path: '$.signals', rule: 'is required' }]],
    ['a bad severity', { signals: [{ ...signal, severity: 'severe' }] }, [
      { path: '$.signals[0].severity', rule: 'must be one of low, medium, high, critical', value: 'severe' },
    ]],
    ['a missing name', { signals: [{ ...signal, name: undefined }] }, [{ path: '$.signals[0].name', rule: 'is required' }]],
    ['tags that are not strings', { signals: [{ ...signal, tags: ['T1059', 3] }] }, [{ path: '$.signals[0].tags[1]', rule: 'must be a non-empty string', value: 3 }]],
    ['duplicate ids', { signals: [signal, signal] }, [{ path: '$.signals[1].id', rule: 'duplicate id; first used at $.signals[0].id', value: 'shell-from-tmp' }]],
    ['an unknown key', { signals: [{ ...signal, score: 5 }] }, [
      { path: '$.signals[0].score', rule: 'unknown key; allowed keys: id, name, description, severity, family, tags, when', value: 5 },
    ]],
    ['a bad condition', { signals: [{ ...signal, when: { field: 'exe', beginsWith: [] } }] }, [
      { path: '$.signals[0].when.beginsWith', rule: 'must be a non-empty string or a non-empty array of non-empty strings', value: [] },
    ]],
  ];
  it.each(cases)('rejects %s', (_name, input, expected) => {
    // JSON round trip drops keys set to undefined, as a file would not have them.
    expect(issuesOf(() => parseSignals(JSON.parse(JSON.stringify(input))))).toEqual(expected);
  });
});
