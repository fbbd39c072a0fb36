import { constants, generateKeyPairSync, privateDecrypt, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sessionV1 as session } from '@dc/proto';
import { makeTempDir } from '@dc/service-kit/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { accessLogPath, type KeyAccessRecord, keyStoreDir, retrieveKey } from '../protect/key-store';
import { findFiles } from '../reveal/file-search';
import { validatePatterns } from '../reveal/patterns';
import { answerRequest, type ResponsePayload, type SessionRequestHandlers } from './session-requests';

describe('Reveal and Protect answered through a session request', () => {
  const tmp = makeTempDir('dc-reveal-protect-');
  afterAll(() => tmp.remove());
  const handlers: SessionRequestHandlers = {
    findFiles: (s) => findFiles(s, { chunkSize: 2 }),
    validatePatterns,
    retrieveKey: (r, context) => retrieveKey(r, { dir: keyStoreDir(tmp.dir) }, context),
  };
  const ask = async (payload: session.SessionRequest['payload'], requestId = 'r1') => {
    const out: ResponsePayload[] = [];
    for await (const p of answerRequest({ requestId, timeout: undefined, payload }, handlers, { sessionId: 'sess-7', moduleName: 'protect' })) out.push(p);
    return out;
  };

  it('streams file matches as the chunks the broker relays, the last one carrying truncated', async () => {
    const root = join(tmp.dir, 'data');
    mkdirSync(root);
    for (const n of ['a.log', 'b.log', 'c.log', 'd.txt']) writeFileSync(join(root, n), n);
    const chunks = await ask({
      $case: 'findFiles',
      value: session.FileSearch.fromPartial({ rules: [{ name: 'logs', roots: [root], pathPatterns: [{ patternId: 'l', syntax: session.PatternSyntax.PATTERN_SYNTAX_GLOB, expression: '*.log' }] }] }),
    });
    expect(chunks.map((c) => c.$case)).toEqual(['files', 'files']);
    const files = chunks.flatMap((c) => (c.$case === 'files' ? [c.value] : []));
    expect(files.map((f) => f.matches.map((m) => m.path.slice(root.length + 1)))).toEqual([['a.log', 'b.log'], ['c.log']]);
    expect(files.at(-1)).toMatchObject({ truncated: false, filesScanned: 4 });
  });

  it('answers a bad root and a bad pattern with an error naming the field', async () => {
    const [bad] = await ask({ $case: 'findFiles', value: session.FileSearch.fromPartial({ rules: [{ name: 'x', roots: ['relative/dir'] }] }) });
    expect(bad).toEqual({ $case: 'error', value: { code: session.SessionErrorCode.SESSION_ERROR_CODE_INVALID_ARGUMENT, field: 'find_files.rules[0].roots[0]', message: 'root "relative/dir" must be an absolute path' } });
    const [verdicts] = await ask({ $case: 'validatePatterns', value: { patterns: [{ patternId: 'p1', syntax: session.PatternSyntax.PATTERN_SYNTAX_REGEX, expression: 'a(b' }] } });
    expect(verdicts!.$case === 'patternValidation' && verdicts.value.verdicts[0]).toMatchObject({ patternId: 'p1', valid: false });
  });

  it('returns a key wrapped to the recipient key, and a refusal as an error', async () => {
    const dir = keyStoreDir(tmp.dir);
    mkdirSync(dir, { mode: 0o700 });
    const secret = randomBytes(32);
    writeFileSync(join(dir, 'volume.key'), secret, { mode: 0o600 });
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const [answer] = await ask({ $case: 'retrieveKey', value: { keyId: 'volume', justification: 'restore', recipientPublicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString() } }, 'req-allowed');
    expect(answer!.$case).toBe('key');
    const key = answer!.$case === 'key' ? answer.value : undefined;
    expect(privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, key!.keyMaterial).equals(secret)).toBe(true);
    const [refused] = await ask({ $case: 'retrieveKey', value: { keyId: 'a/b', justification: 'x', recipientPublicKeyPem: '' } }, 'req-refused');
    expect(refused).toMatchObject({ $case: 'error', value: { code: session.SessionErrorCode.SESSION_ERROR_CODE_INVALID_ARGUMENT, field: 'retrieve_key.key_id' } });
  });

  it('records in access.log the session, module and request of every retrieval, allowed and refused', () => {
    const records = readFileSync(accessLogPath(keyStoreDir(tmp.dir)), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as KeyAccessRecord);
    expect(records.map((r) => [r.sessionId, r.moduleName, r.requestId, r.keyId, r.outcome])).toEqual([
      ['sess-7', 'protect', 'req-allowed', 'volume', 'allowed'],
      ['sess-7', 'protect', 'req-refused', 'a/b', 'refused'],
    ]);
  });
});
