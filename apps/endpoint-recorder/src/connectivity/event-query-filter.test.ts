import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { openMonitorDb, type EventFamily, type MonitorDb } from '@dc/monitor-db';
import { makeTempDir, sharedRoot, workspaceRoot } from '@dc/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileEventFilter, EventFilterRefused, JsonSyntaxError, scanJson } from './event-query-filter';

const CORPUS = join(sharedRoot, 'corpora', 'go-libaudit', 'testdata_normal.log');
const RECORDER = join(workspaceRoot, 'apps', 'endpoint-recorder', 'dist', 'main.cjs');

describe('scanJson', () => {
  it.each([
    ['{"all": [{"field": "exe"}, {"not": {"a b": true}}]}', [['$', 0], ['$.all', 1], ['$.all[0]', 9], ['$.all[0].field', 10], ['$.all[1]', 27], ['$.all[1].not', 28], ['$.all[1].not["a b"]', 36]]],
    ['  [1, -2.5e3, true, null, "\\u00e9\\n"]', [['$', 2], ['$[1]', 6], ['$[4]', 26]]],
    ['{}', [['$', 0]]],
  ])('names the offset of every value of %s', (text, expected) => {
    const offsets = scanJson(text);
    for (const [path, at] of expected as Array<[string, number]>) expect([path, offsets.get(path)]).toEqual([path, at]);
    expect(JSON.parse(text)).toBeDefined(); // the texts are JSON: the scanner agrees with JSON.parse
  });

  it.each([
    ['', 0, 'a value'],
    ['{"a": 1,}', 8, 'a member name'],
    ['{"a" 1}', 5, '":"'],
    ['[1 2]', 3, '"," or "]"'],
    ['{"a": tru}', 6, '"true"'],
    ['{"a": 01}', 7, '"," or "}"'],
    ['"tab\there"', 4, 'the end of the string'],
    ['{"a": "\\x"}', 7, 'the end of the string'],
    ['{} x', 3, 'the end of the text'],
    ["{'a': 1}", 1, 'a member name'],
  ])('refuses %j at offset %i, expecting %s', (text, offset, expected) => {
    let err: unknown;
    try {
      scanJson(text);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(JsonSyntaxError);
    expect((err as JsonSyntaxError).offset).toBe(offset);
    expect((err as JsonSyntaxError).expected).toContain(expected);
    expect(() => JSON.parse(text)).toThrow(); // and JSON.parse agrees it is not JSON
  });
});

describe('compileEventFilter', () => {
  it('treats an empty or blank filter as none', () => {
    expect(compileEventFilter('')).toBeUndefined();
    expect(compileEventFilter(' \n')).toBeUndefined();
  });

  it('lists every problem of a condition, each at its offset, and reports the first', () => {
    const text = '{"any": [{"field": "exe", "endsWith": []}, {"field": "", "regex": "("}]}';
    let err: unknown;
    try {
      compileEventFilter(text);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(EventFilterRefused);
    const refused = err as EventFilterRefused;
    expect(refused.offset).toBe(text.indexOf('"endsWith"'));
    expect(refused.message).toContain(`at offset ${text.indexOf('"endsWith"')}: $.any[0].endsWith []: must be a non-empty string or a non-empty array`);
    expect(refused.message).toContain(`at offset ${text.indexOf('"field": ""')}: $.any[1].field "": must be a field name`);
    expect(refused.message).toMatch(new RegExp(`at offset ${text.indexOf('"regex"')}: \\$\\.any\\[1\\]\\.regex "\\(": `));
  });
});

describe('the query filter on process and network events of a replayed corpus', () => {
  const tmp = makeTempDir('dc-query-filter-');
  let db: MonitorDb;
  const replay = async (dir: string) => {
    const { stdout } = await promisify(execFile)(process.execPath, [RECORDER, 'replay', CORPUS, '--config', dir, '--json'], { cwd: dir });
    return JSON.parse(stdout) as { events: Record<EventFamily, number>; filtered: Record<EventFamily, number> };
  };
  beforeAll(async () => {
    if (!existsSync(RECORDER)) execFileSync(process.execPath, [join(workspaceRoot, 'tools', 'build', 'build.mjs'), 'apps/endpoint-recorder'], { cwd: workspaceRoot });
    const all = await replay(tmp.dir);
    expect(all.events).toMatchObject({ process: 2, network: 1 });
    db = openMonitorDb({ path: join(tmp.dir, 'monitor.db') });
  }, 60_000);
  afterAll(() => {
    db.close();
    tmp.remove();
  });

  const CASES: Array<[EventFamily, unknown, number]> = [
    ['process', { all: [{ field: 'argv', equals: 'securitybeat' }, { field: 'process.auid', gte: 1000 }] }, 1],
    ['process', { all: [{ field: 'exe', regex: '/(grep|cat)$' }, { field: 'process.key', equals: 'user_commands' }, { field: 'argc', gte: 3 }] }, 1],
    ['process', { field: 'argc', exists: false }, 0],
    ['network', { all: [{ field: 'remote.address', cidr: '169.254.0.0/16' }, { field: 'remote.port', equals: 80 }, { field: 'operation', equals: 'connect' }] }, 1],
    ['network', { field: 'local.address', exists: true }, 0],
  ];

  it.each(CASES)('on %s events selects what %j selects as a filters.json rule while recording', async (family, condition, expected) => {
    const dir = join(tmp.dir, `rule-${CASES.findIndex((c) => c[1] === condition)}`);
    mkdirSync(dir);
    writeFileSync(join(dir, 'filters.json'), JSON.stringify({ rules: [{ id: 'q', family, action: 'exclude', when: condition }] }));
    const live = (await replay(dir)).filtered[family];
    const predicate = compileEventFilter(JSON.stringify(condition))!;
    const stored = db.queryEvents({ family, from: 0, to: Date.UTC(2100, 0, 1), limit: 1000 }).rows;
    expect(stored.filter(predicate).length).toBe(live);
    expect(live).toBe(expected);
  }, 30_000);
});
