// Table-driven tests of the condition grammar: every operator accepted, every error kind with its JSON path.
import { describe, expect, it } from 'vitest';
import { FilterValidationError, type ValidationIssue } from '../errors';
import { parseConditionJson } from './parse-condition-json';
import { MAX_CONDITION_DEPTH, renderCondition } from './parse-condition';

function issuesOf(input: unknown): ValidationIssue[] {
  try {
    parseConditionJson(input);
  } catch (error) {
    expect(error).toBeInstanceOf(FilterValidationError);
    return [...(error as FilterValidationError).issues];
  }
  throw new Error('expected a FilterValidationError');
}

describe('parseConditionJson accepts every operator', () => {
  const cases: [string, unknown, unknown][] = [
    ['equals a string', { field: 'exe', equals: '/bin/sh' }, { kind: 'test', field: 'exe', op: 'equals', value: ['/bin/sh'], ignoreCase: false }],
    ['equals a number', { field: 'process.uid', equals: 0 }, { kind: 'test', field: 'process.uid', op: 'equals', value: [0], ignoreCase: false }],
    ['equals a boolean', { field: 'process.success', equals: false }, { kind: 'test', field: 'process.success', op: 'equals', value: [false], ignoreCase: false }],
    ['in', { field: 'user', in: ['root', 0] }, { kind: 'test', field: 'user', op: 'in', value: ['root', 0], ignoreCase: false }],
    ['beginsWith one', { field: 'path', beginsWith: '/tmp/' }, { kind: 'test', field: 'path', op: 'beginsWith', value: ['/tmp/'], ignoreCase: false }],
    ['beginsWith many', { field: 'path', beginsWith: ['/tmp/', '/var/tmp/'] }, { kind: 'test', field: 'path', op: 'beginsWith', value: ['/tmp/', '/var/tmp/'], ignoreCase: false }],
    ['endsWith', { field: 'exe', endsWith: '/cron', ignoreCase: true }, { kind: 'test', field: 'exe', op: 'endsWith', value: ['/cron'], ignoreCase: true }],
    ['contains', { field: 'argv', contains: ['base64', 'nc -e'] }, { kind: 'test', field: 'argv', op: 'contains', value: ['base64', 'nc -e'], ignoreCase: false }],
    ['regex', { field: 'exe', regex: '^/tmp/[^/]+$' }, { kind: 'test', field: 'exe', op: 'regex', value: '^/tmp/[^/]+$', ignoreCase: false }],
    ['cidr one', { field: 'remote.address', cidr: '10.0.0.0/8' }, { kind: 'test', field: 'remote.address', op: 'cidr', value: ['10.0.0.0/8'] }],
    ['cidr many incl. IPv6 and a bare address', { field: 'remote.address', cidr: ['fd00::/8', '192.168.1.1'] }, { kind: 'test', field: 'remote.address', op: 'cidr', value: ['fd00::/8', '192.168.1.1'] }],
    ['gt', { field: 'remote.port', gt: 1023 }, { kind: 'test', field: 'remote.port', op: 'gt', value: 1023 }],
    ['gte', { field: 'remote.port', gte: 1024 }, { kind: 'test', field: 'remote.port', op: 'gte', value: 1024 }],
    ['lt', { field: 'remote.port', lt: 1024 }, { kind: 'test', field: 'remote.port', op: 'lt', value: 1024 }],
    ['lte', { field: 'remote.port', lte: 1.5 }, { kind: 'test', field: 'remote.port', op: 'lte', value: 1.5 }],
    ['exists', { field: 'process.key', exists: true }, { kind: 'test', field: 'process.key', op: 'exists', value: true }],
    [
      'all / any / not nested',
      { all: [{ any: [{ field: 'a', equals: 'x' }] }, { not: { field: 'b', exists: true } }] },
      {
        kind: 'all',
        of: [
          { kind: 'any', of: [{ kind: 'test', field: 'a', op: 'equals', value: ['x'], ignoreCase: false }] },
          { kind: 'not', of: { kind: 'test', field: 'b', op: 'exists', value: true } },
        ],
      },
    ],
  ];
  it.each(cases)('%s', (_name, input, expected) => {
    expect(parseConditionJson(input)).toEqual(expected);
    expect(parseConditionJson(JSON.stringify(input))).toEqual(expected);
  });

  it.each(cases)('renders %s back to JSON that parses to the same tree', (_name, input) => {
    const parsed = parseConditionJson(input);
    expect(parseConditionJson(renderCondition(parsed))).toEqual(parsed);
  });
});

describe('parseConditionJson rejects', () => {
  /** An expected issue; `rule` may be an asymmetric matcher. */
  type Expected = { path: string; rule: unknown; value?: unknown };
  const cases: [string, unknown, Expected[]][] = [
    ['invalid JSON text', '{"field": ', [{ path: '$', rule: expect.stringMatching(/^must be valid JSON/) }]],
    ['a non-object', 42, [{ path: '$', rule: expect.stringMatching(/^must be a condition object/), value: 42 }]],
    ['an unknown operator', { field: 'exe', startsWith: '/x' }, [
      { path: '$.startsWith', rule: expect.stringMatching(/^unknown key/), value: '/x' },
      { path: '$', rule: expect.stringMatching(/^needs one operator/) },
    ]],
    ['two operators', { field: 'exe', equals: 'a', contains: 'b' }, [{ path: '$', rule: 'must have exactly one operator, found equals, contains' }]],
    ['a missing field', { equals: 'a' }, [{ path: '$.field', rule: 'is required (or use "all", "any" or "not")' }]],
    ['a bad field path', { field: 'a..b', equals: 'a' }, [{ path: '$.field', rule: 'must be a field name or dotted path like "exe" or "remote.address"', value: 'a..b' }]],
    ['a field that is not a string', { field: 3, equals: 'a' }, [{ path: '$.field', rule: 'must be a field name or dotted path like "exe" or "remote.address"', value: 3 }]],
    ['equals an object', { field: 'a', equals: { x: 1 } }, [{ path: '$.equals', rule: 'must be a string, a finite number or a boolean', value: { x: 1 } }]],
    ['an empty in list', { field: 'a', in: [] }, [{ path: '$.in', rule: 'must be a non-empty array of strings, numbers or booleans', value: [] }]],
    ['an in list with a null', { field: 'a', in: ['x', null] }, [{ path: '$.in[1]', rule: 'must be a string, a finite number or a boolean', value: null }]],
    ['an empty beginsWith', { field: 'a', beginsWith: '' }, [{ path: '$.beginsWith', rule: 'must be a non-empty string or a non-empty array of non-empty strings', value: '' }]],
    ['a number in endsWith', { field: 'a', endsWith: ['x', 5] }, [{ path: '$.endsWith[1]', rule: 'must be a non-empty string', value: 5 }]],
    ['an empty contains list', { field: 'a', contains: [] }, [{ path: '$.contains', rule: 'must be a non-empty string or a non-empty array of non-empty strings', value: [] }]],
    ['a bad regex', { field: 'a', regex: '(' }, [{ path: '$.regex', rule: expect.stringMatching(/^must be a valid JavaScript regular expression/), value: '(' }]],
    ['a bad CIDR prefix', { field: 'a', cidr: '10.0.0.0/33' }, [{ path: '$.cidr', rule: 'must be an IPv4 or IPv6 CIDR like 10.0.0.0/8 or fd00::/8 (or a single address)', value: '10.0.0.0/33' }]],
    ['a bad CIDR in a list', { field: 'a', cidr: ['10.0.0.0/8', '300.1.1.1/8', 'fd00:::1/8'] }, [
      { path: '$.cidr[1]', rule: 'must be an IPv4 or IPv6 CIDR like 10.0.0.0/8 or fd00::/8 (or a single address)', value: '300.1.1.1/8' },
      { path: '$.cidr[2]', rule: 'must be an IPv4 or IPv6 CIDR like 10.0.0.0/8 or fd00::/8 (or a single address)', value: 'fd00:::1/8' },
    ]],
    ['a string comparison', { field: 'a', gt: '5' }, [{ path: '$.gt', rule: 'must be a finite number', value: '5' }]],
    ['exists with a string', { field: 'a', exists: 'yes' }, [{ path: '$.exists', rule: 'must be true or false', value: 'yes' }]],
    ['ignoreCase on a number operator', { field: 'a', lt: 5, ignoreCase: true }, [{ path: '$.ignoreCase', rule: 'does not apply to "lt"', value: true }]],
    ['ignoreCase that is not a boolean', { field: 'a', equals: 'x', ignoreCase: 'yes' }, [{ path: '$.ignoreCase', rule: 'must be true or false', value: 'yes' }]],
    ['an empty all', { all: [] }, [{ path: '$.all', rule: 'must be a non-empty array of conditions', value: [] }]],
    ['any that is not an array', { any: { field: 'a', equals: 'x' } }, [{ path: '$.any', rule: 'must be a non-empty array of conditions', value: { field: 'a', equals: 'x' } }]],
    ['a combinator beside a field test', { all: [{ field: 'a', equals: 'x' }], field: 'b' }, [{ path: '$.field', rule: 'must not appear beside "all": put each condition in its own object', value: 'b' }]],
    ['errors deep inside, each with its path', { all: [{ field: 'a', equals: 'x' }, { not: { any: [{ field: 'b', cidr: 'x' }, { field: 'c', regex: '[' }] } }] }, [
      { path: '$.all[1].not.any[0].cidr', rule: 'must be an IPv4 or IPv6 CIDR like 10.0.0.0/8 or fd00::/8 (or a single address)', value: 'x' },
      { path: '$.all[1].not.any[1].regex', rule: expect.stringMatching(/^must be a valid JavaScript regular expression/), value: '[' },
    ]],
  ];
  it.each(cases)('%s', (_name, input, expected) => {
    expect(issuesOf(input)).toEqual(expected);
  });

  it('refuses conditions nested deeper than the limit', () => {
    let deep: unknown = { field: 'a', equals: 'x' };
    for (let i = 0; i < MAX_CONDITION_DEPTH + 1; i++) deep = { not: deep };
    const issues = issuesOf(deep);
    expect(issues).toHaveLength(1);
    expect(issues[0].rule).toBe(`conditions must not nest deeper than ${MAX_CONDITION_DEPTH} levels`);
  });

  it('names the source, the path, the value and the rule in the message', () => {
    expect(() => parseConditionJson({ field: 'a', cidr: '10.0.0.0/33' }, 'query')).toThrow(
      'query: 1 problem:\n  $.cidr "10.0.0.0/33": must be an IPv4 or IPv6 CIDR like 10.0.0.0/8 or fd00::/8 (or a single address)',
    );
  });
});
