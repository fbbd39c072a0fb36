// The cross-rule index: which key it picks per rule, that it narrows the rules tried, and order.
import { describe, expect, it } from 'vitest';
import { compileCondition } from '../conditions/compile-condition';
import { parseConditionJson } from '../conditions/parse-condition-json';
import type { FilterEvent } from '../model';
import { indexKeys, RuleIndex } from './rule-index';

describe('indexKeys', () => {
  const cases: [string, unknown, unknown][] = [
    ['a text test is its own key', { field: 'exe', endsWith: '/cron' }, [{ field: 'exe', kind: 'endsWith', ignoreCase: false, literals: ['/cron'] }]],
    ['in is keyed like equals, numbers as text', { field: 'port', in: [22, '443'] }, [{ field: 'port', kind: 'equals', ignoreCase: false, literals: ['22', '443'] }]],
    ['ignoreCase keys are lower-cased', { field: 'p', beginsWith: 'C:\\Win', ignoreCase: true }, [{ field: 'p', kind: 'beginsWith', ignoreCase: true, literals: ['c:\\win'] }]],
    ['all takes its most selective conjunct', { all: [{ field: 'cmd', contains: 'x' }, { field: 'exe', equals: '/bin/sh' }, { field: 'a', regex: 'y' }] }, [
      { field: 'exe', kind: 'equals', ignoreCase: false, literals: ['/bin/sh'] },
    ]],
    ['any takes the union of its branches', { any: [{ field: 'a', equals: 'x' }, { field: 'b', beginsWith: 'y' }] }, [
      { field: 'a', kind: 'equals', ignoreCase: false, literals: ['x'] },
      { field: 'b', kind: 'beginsWith', ignoreCase: false, literals: ['y'] },
    ]],
    ['any with an unindexable branch has no key', { any: [{ field: 'a', equals: 'x' }, { field: 'b', regex: 'y' }] }, undefined],
    ['not has no key', { not: { field: 'a', equals: 'x' } }, undefined],
    ['regex, cidr, numbers and exists have no key', { all: [{ field: 'a', regex: 'x' }, { field: 'b', cidr: '10.0.0.0/8' }, { field: 'c', gt: 1 }, { field: 'd', exists: true }] }, undefined],
  ];
  it.each(cases)('%s', (_name, condition, expected) => {
    expect(indexKeys(parseConditionJson(condition))).toEqual(expected);
  });
});

function countingIndex(conditions: unknown[], linear: boolean) {
  const parsed = conditions.map((c) => parseConditionJson(c));
  const calls: number[] = parsed.map(() => 0);
  const predicates = parsed.map((c, i) => {
    const p = compileCondition(c);
    return (e: FilterEvent) => {
      calls[i]++;
      return p(e);
    };
  });
  return { index: new RuleIndex(predicates, parsed, linear), calls };
}

describe('RuleIndex', () => {
  const rules = [
    { field: 'exe', endsWith: '/cron' },
    { field: 'exe', endsWith: '/atd' },
    { field: 'path', beginsWith: '/tmp/' },
    { field: 'argv', contains: 'base64' },
    { field: 'port', gt: 1000 },
    { field: 'user', equals: 'root' },
  ];

  it('tries only the rules whose literal the event hits, plus the unindexed ones', () => {
    const { index, calls } = countingIndex(rules, false);
    expect(index.firstMatch({ exe: '/usr/sbin/atd', argv: ['x'], user: 'bob' })).toBe(1);
    expect(calls).toEqual([0, 1, 0, 0, 0, 0]); // the unindexed gt rule comes after the match
    expect(index.firstMatch({ exe: '/bin/ls', port: 22 })).toBe(-1);
    expect(calls).toEqual([0, 1, 0, 0, 1, 0]);
  });

  it('linear, tries rules in order until one matches', () => {
    const { index, calls } = countingIndex(rules, true);
    expect(index.firstMatch({ exe: '/usr/sbin/atd' })).toBe(1);
    expect(calls).toEqual([1, 1, 0, 0, 0, 0]);
  });

  it('returns the earliest matching rule when an unindexed rule precedes an indexed one', () => {
    const { index } = countingIndex([{ field: 'port', gt: 1000 }, { field: 'user', equals: 'root' }], false);
    expect(index.firstMatch({ port: 8080, user: 'root' })).toBe(0);
    expect(index.firstMatch({ port: 80, user: 'root' })).toBe(1);
  });

  it('lists every match in rule order, each once, even when several literals of a rule hit', () => {
    const { index } = countingIndex(
      [{ field: 'argv', contains: ['a', 'b'] }, { field: 'port', gt: 1 }, { field: 'argv', equals: 'ab' }, { field: 'argv', beginsWith: 'a' }],
      false,
    );
    const out: number[] = [];
    expect(index.allMatches({ argv: ['ab', 'ba', 'a'], port: 5 }, out)).toBe(4);
    expect(out).toEqual([0, 1, 2, 3]);
  });
});
