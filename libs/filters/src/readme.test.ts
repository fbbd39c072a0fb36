// Runs the README's example and checks each result against the comment written beside it.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import * as filters from './index';

const readme = readFileSync(path.resolve(__dirname, '..', 'README.md'), 'utf8');
const example = /```ts\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';

describe('the README example', () => {
  it('runs, and every call returns what its comment says', () => {
    expect(example).toContain("from '@dc/filters'");
    const checks: [unknown, unknown][] = [];
    const expectLine = /^(\w+\.(?:decide|match)\(.*\));\s*\/\/ (.*)$/;
    let pending: string | undefined;
    const body = example
      .split('\n')
      .filter((line) => !line.startsWith('import '))
      .map((line) => {
        const m = expectLine.exec(line);
        if (m) return `__check(${m[1]}, ${m[2]});`;
        if (/^\w+\.(?:decide|match)\(.*\);$/.test(line)) {
          pending = line.slice(0, -1);
          return '';
        }
        if (pending && line.startsWith('// ')) {
          const call = pending;
          pending = undefined;
          return `__check(${call}, ${line.slice(3)});`;
        }
        return line;
      })
      .join('\n');
    const run = new Function('__api', '__check', `const { ${Object.keys(filters).join(', ')} } = __api;\n${body}`);
    run(filters, (actual: unknown, expected: unknown) => checks.push([actual, expected]));
    expect(checks.length).toBe(6);
    for (const [actual, expected] of checks) expect(actual).toEqual(expected);
  });
});
