import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
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
    [{ filter: 'user = root' }, /filter.*JSON object/],
    [{ filter: '{"exe": {"$ne": 1}}' }, /filter.exe.*string, number, boolean or null/],
  ])('refuses %j naming the field', async (q, message) => {
    const [err] = await query(q);
    expect(err!.$case).toBe('error');
    if (err!.$case === 'error') {
      expect(err!.value.code).toBe(session.SessionErrorCode.SESSION_ERROR_CODE_INVALID_ARGUMENT);
      expect(`${err!.value.field}: ${err!.value.message}`).toMatch(message);
    }
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
