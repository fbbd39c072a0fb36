import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { openMonitorDb, type MonitorDb } from '@dc/monitor-db';
import { commonV1 as common, sessionV1 as session } from '@dc/proto';
import { makeTempDir, sharedRoot, workspaceRoot } from '@dc/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answerRequest, type ResponsePayload } from './session-requests';

const CORPUS = join(sharedRoot, 'corpora', 'LLM-log-parsing', 'russelmitchell_intranet_server_audit.log');
const RECORDER = join(workspaceRoot, 'apps', 'endpoint-recorder', 'dist', 'main.cjs');

async function all(req: session.SessionRequest['payload'], db?: MonitorDb): Promise<ResponsePayload[]> {
  const out: ResponsePayload[] = [];
  for await (const p of answerRequest({ requestId: 'r1', timeout: undefined, payload: req }, { monitorDb: db ? () => db : undefined, now: () => Date.UTC(2030, 0, 1) }, { sessionId: 's1', moduleName: 'trace' })) out.push(p);
  return out;
}

describe('session requests answered from monitor.db', () => {
  const tmp = makeTempDir('dc-conn-');
  let db: MonitorDb;
  beforeAll(() => {
    if (!existsSync(RECORDER)) execFileSync(process.execPath, [join(workspaceRoot, 'tools', 'build', 'build.mjs'), 'apps/endpoint-recorder'], { cwd: workspaceRoot });
    execFileSync(process.execPath, [RECORDER, 'replay', CORPUS, '--config', tmp.dir, '--json'], { cwd: tmp.dir });
    db = openMonitorDb({ path: join(tmp.dir, 'monitor.db') });
  }, 60_000);
  afterAll(() => {
    db.close();
    tmp.remove();
  });

  const query = (q: Partial<session.EventQuery>) => all({ $case: 'queryEvents', value: session.EventQuery.fromPartial({ family: common.EventFamily.EVENT_FAMILY_SECURITY, ...q }) }, db);

  it('streams events in chunks of chunk_size and marks a result cut by the limit', async () => {
    const chunks = await query({ limit: 250, chunkSize: 100 });
    expect(chunks.map((c) => (c.$case === 'events' ? c.value.events.length : -1))).toEqual([100, 100, 50]);
    expect(chunks.map((c) => c.$case === 'events' && c.value.truncated)).toEqual([false, false, true]);
  });

  it('returns everything, untruncated, when the limit is above the count', async () => {
    const chunks = await query({ limit: 100_000, chunkSize: 5000 });
    const n = chunks.reduce((s, c) => s + (c.$case === 'events' ? c.value.events.length : 0), 0);
    expect(n).toBe(1833); // security events the recorder stored from this corpus
    const last = chunks.at(-1)!;
    expect(last.$case === 'events' && last.value.truncated).toBe(false);
  });

  it('keeps the time order asked for', async () => {
    const [asc] = await query({ limit: 5, order: session.SortOrder.SORT_ORDER_ASCENDING });
    const [desc] = await query({ limit: 5, order: session.SortOrder.SORT_ORDER_DESCENDING });
    const times = (p: ResponsePayload | undefined) => (p?.$case === 'events' ? p.value.events.map((e) => e.time!.getTime()) : []);
    expect(times(asc)).toEqual([...times(asc)].sort((a, b) => a - b));
    expect(times(desc)).toEqual([...times(desc)].sort((a, b) => b - a));
    expect(times(desc)[0]!).toBeGreaterThanOrEqual(times(asc)[4]!);
  });

  it.each([
    [{ limit: 100_001 }, /^query_events.limit.*at most 100000/],
    [{ chunkSize: 5001 }, /chunk_size.*at most 5000/],
    [{ family: common.EventFamily.EVENT_FAMILY_UNSPECIFIED }, /family.*must be one of/],
    [{ filter: 'user = root' }, /^query_events.filter: must be a JSON object in the filters.json condition language.*invalid JSON at offset 0: expected a value \(object, array, string, number, true, false or null\), found "u"$/],
    [{ filter: '{"field": "account", "equals": "root"' }, /^query_events.filter: .*invalid JSON at offset 37: expected "," or "}", found the end of the text$/],
    [{ filter: '{"exe": "/usr/bin/curl"}' }, /^query_events.filter: is not a condition.*at offset 1: \$.exe "\/usr\/bin\/curl": unknown key/],
    [{ filter: '{"any": [{"field": "account", "equals": "root"}, {"field": "remoteAddress", "cidr": "10.0.0.0/33"}]}' }, /^query_events.filter: .*at offset 76: \$.any\[1\].cidr "10.0.0.0\/33": must be an IPv4 or IPv6 CIDR/],
    [{ filter: '{"all": [{"field": "account"}]}' }, /at offset 9: \$.all\[0\]: needs one operator/],
  ])('refuses %j naming the field', async (q, message) => {
    const [err] = await query(q);
    expect(err!.$case).toBe('error');
    if (err!.$case === 'error') {
      expect(err!.value.code).toBe(session.SessionErrorCode.SESSION_ERROR_CODE_INVALID_ARGUMENT);
      expect(`${err!.value.field}: ${err!.value.message}`).toMatch(message);
    }
  });

  // Conditions as an operator writes them in filters.json (field names of live audit events).
  const CONDITIONS: Array<[string, unknown]> = [
    ['an account', { field: 'account', equals: 'jhall' }],
    ['a combination with not/in over the audit action', { all: [{ field: 'action', equals: 'session-start' }, { not: { field: 'account', in: ['root', '0'] } }] }],
    ['the process executable or a CIDR', { any: [{ field: 'process.exe', endsWith: '/sshd' }, { field: 'remoteAddress', cidr: '172.19.0.0/16' }] }],
    ['a number and a case-blind regex', { all: [{ field: 'process.uid', equals: 0 }, { field: 'terminal', regex: '^/DEV/PTS/', ignoreCase: true }] }],
    ['a missing field', { field: 'hostname', exists: false }],
  ];

  it.each(CONDITIONS)('selects the events a filters.json rule on %s matches while recording', async (_what, condition) => {
    // The oracle: the recorder's own pipeline, replaying the same corpus with the condition as an exclude rule.
    const dir = join(tmp.dir, `rule-${CONDITIONS.findIndex((c) => c[1] === condition)}`);
    mkdirSync(dir);
    writeFileSync(join(dir, 'filters.json'), JSON.stringify({ version: 1, rules: [{ id: 'q', family: 'security', action: 'exclude', when: condition }] }));
    const { stdout } = await promisify(execFile)(process.execPath, [RECORDER, 'replay', CORPUS, '--config', dir, '--json'], { cwd: dir });
    const excluded = (JSON.parse(stdout) as { filtered: { security: number } }).filtered.security;
    const chunks = await query({ filter: JSON.stringify(condition, null, 1), limit: 100_000, chunkSize: 5000 });
    expect(chunks.every((c) => c.$case === 'events')).toBe(true);
    const n = chunks.reduce((sum, c) => sum + (c.$case === 'events' ? c.value.events.length : 0), 0);
    expect(excluded).toBeGreaterThan(0);
    expect(excluded).toBeLessThan(1833);
    expect(n).toBe(excluded);
  }, 30_000);

  it('keeps the limit and the chunks with a filter', async () => {
    const filter = JSON.stringify({ field: 'account', equals: 'root' });
    const chunks = await query({ filter, limit: 10, chunkSize: 4, order: session.SortOrder.SORT_ORDER_DESCENDING });
    expect(chunks.map((c) => (c.$case === 'events' ? [c.value.events.length, c.value.truncated] : c.$case))).toEqual([[4, false], [4, false], [2, true]]);
    const sql = db.queryEvents({ family: 'security', from: 0, to: Date.UTC(2030, 0, 1), filter: { account: 'root' }, limit: 10, order: 'desc' }).rows.map((r) => r.id);
    expect(chunks.flatMap((c) => (c.$case === 'events' ? c.value.events.map((e) => e.eventId) : []))).toEqual(sql);
  });

  it('refuses a filter that does not parse before reading any row', async () => {
    const closed = openMonitorDb({ path: join(tmp.dir, 'monitor.db') });
    closed.close(); // any read would throw: the refusal must come first
    const out: ResponsePayload[] = [];
    const req = session.EventQuery.fromPartial({ family: common.EventFamily.EVENT_FAMILY_SECURITY, filter: '{"field": "account", "begins": "r"}' });
    for await (const p of answerRequest({ requestId: 'r1', timeout: undefined, payload: { $case: 'queryEvents', value: req } }, { monitorDb: () => closed }, { sessionId: 's1', moduleName: 'trace' })) out.push(p);
    expect(out).toEqual([{ $case: 'error', value: { code: session.SessionErrorCode.SESSION_ERROR_CODE_INVALID_ARGUMENT, field: 'query_events.filter', message: expect.stringMatching(/^is not a condition of the filters.json language .*: at offset 21: \$.begins "r": unknown key/) } }]);
  });

  it('answers a ping and refuses a payload over 1 KiB', async () => {
    const [pong] = await all({ $case: 'ping', value: { payload: Buffer.from('abc') } });
    expect(pong!.$case === 'pong' && Buffer.from(pong!.value.payload).toString()).toBe('abc');
    const [big] = await all({ $case: 'ping', value: { payload: Buffer.alloc(2000) } });
    expect(big!.$case === 'error' && big!.value.field).toBe('ping.payload');
  });

  it('answers UNIMPLEMENTED for what this endpoint does not offer', async () => {
    const [r] = await all({ $case: 'retrieveKey', value: { keyId: 'k', justification: 'x', recipientPublicKeyPem: '' } });
    expect(r!.$case === 'error' && r!.value.code).toBe(session.SessionErrorCode.SESSION_ERROR_CODE_UNIMPLEMENTED);
  });
});
