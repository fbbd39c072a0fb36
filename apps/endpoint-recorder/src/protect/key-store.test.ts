import { constants, generateKeyPairSync, privateDecrypt, randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sessionV1 as session } from '@dc/proto';
import { makeTempDir } from '@dc/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SessionRequestError } from '../connectivity/session-requests';
import { accessLogPath, type KeyAccessRecord, keyStoreDir, retrieveKey } from './key-store';

const E = session.SessionErrorCode;

describe('Protect key store', () => {
  const tmp = makeTempDir('dc-protect-');
  const dir = keyStoreDir(tmp.dir);
  const aes = randomBytes(32);
  const clock = () => Date.UTC(2030, 0, 1);
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const context = { sessionId: 'sess-1', moduleName: 'protect', requestId: 'req-1' };
  const retrieve = (r: Partial<session.KeyRetrieval>, uid?: number) => retrieveKey(session.KeyRetrieval.fromPartial({ justification: 'incident 42', ...r }), { dir, clock, uid }, context);
  const refusal = (r: Partial<session.KeyRetrieval>, uid?: number) => {
    try {
      retrieve(r, uid);
    } catch (err) {
      expect(err).toBeInstanceOf(SessionRequestError);
      const e = err as SessionRequestError;
      return { code: e.code, field: e.field, message: e.message };
    }
    throw new Error('not refused');
  };
  const log = (): KeyAccessRecord[] => readFileSync(accessLogPath(dir), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as KeyAccessRecord);

  beforeAll(() => {
    mkdirSync(dir, { mode: 0o700 });
    writeFileSync(join(dir, 'disk.key'), aes, { mode: 0o600 });
    writeFileSync(join(dir, 'loose.key'), aes, { mode: 0o644 });
    chmodSync(join(dir, 'loose.key'), 0o644);
    symlinkSync(join(dir, 'disk.key'), join(dir, 'linked.key'));
  });
  afterAll(() => tmp.remove());

  it('returns a 0600 key owned by the recorder user and records the access, never the key', () => {
    const key = retrieve({ keyId: 'disk' });
    expect(key).toMatchObject({ keyId: 'disk', algorithm: 'AES-256', wrapped: false });
    expect(Buffer.from(key.keyMaterial).equals(aes)).toBe(true);
    const last = log().at(-1)!;
    expect(last).toEqual({ time: '2030-01-01T00:00:00.000Z', sessionId: 'sess-1', moduleName: 'protect', requestId: 'req-1', keyId: 'disk', justification: 'incident 42', wrapped: false, outcome: 'allowed' });
    expect(readFileSync(accessLogPath(dir), 'utf8')).not.toContain(aes.toString('hex'));
    expect(statSync(accessLogPath(dir)).mode & 0o777).toBe(0o600);
  });

  it('encrypts the key to the recipient RSA key (OAEP-SHA256) so only its holder reads it', () => {
    const key = retrieve({ keyId: 'disk', recipientPublicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString() });
    expect(key.wrapped).toBe(true);
    expect(Buffer.from(key.keyMaterial).equals(aes)).toBe(false);
    const clear = privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, key.keyMaterial);
    expect(clear.equals(aes)).toBe(true);
    expect(log().at(-1)).toMatchObject({ keyId: 'disk', wrapped: true, outcome: 'allowed' });
  });

  it('refuses a key file readable by others, a symlinked key and a key owned by another user, with the reason logged', () => {
    expect(refusal({ keyId: 'loose' })).toEqual({ code: E.SESSION_ERROR_CODE_PERMISSION_DENIED, field: 'retrieve_key.key_id', message: `key "loose": ${join(dir, 'loose.key')} has mode 0644; key files must be 0600 (readable by their owner only)` });
    expect(refusal({ keyId: 'linked' }).message).toMatch(/is a symbolic link/);
    const other = (process.getuid?.() ?? 0) + 1;
    expect(refusal({ keyId: 'disk' }, other).message).toMatch(new RegExp(`must belong to the recorder's user \\(uid ${other}\\)`));
    const refused = log().filter((r) => r.outcome === 'refused');
    expect(refused.map((r) => r.keyId)).toEqual(['loose', 'linked', 'disk']);
    expect(refused[0]!.reason).toMatch(/mode 0644/);
    expect(refused[0]).toMatchObject(context);
  });

  it('refuses key ids with path separators, missing keys, a missing justification and a weak recipient key, naming the field', () => {
    expect(refusal({ keyId: '../identity/key' })).toMatchObject({ code: E.SESSION_ERROR_CODE_INVALID_ARGUMENT, field: 'retrieve_key.key_id', message: expect.stringMatching(/must be a plain name.*no path separators/) });
    expect(refusal({ keyId: '.hidden' }).field).toBe('retrieve_key.key_id');
    expect(refusal({ keyId: 'absent' })).toMatchObject({ code: E.SESSION_ERROR_CODE_NOT_FOUND, message: 'key "absent" is not in this endpoint\'s key store' });
    expect(refusal({ keyId: 'disk', justification: '  ' })).toMatchObject({ field: 'retrieve_key.justification' });
    const weak = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    expect(refusal({ keyId: 'disk', recipientPublicKeyPem: weak })).toMatchObject({ field: 'retrieve_key.recipient_public_key_pem', message: 'must be at least 2048 bits (got 1024)' });
    expect(refusal({ keyId: 'disk', recipientPublicKeyPem: 'not a key' }).field).toBe('retrieve_key.recipient_public_key_pem');
    expect(log().slice(-6).map((r) => [r.keyId, r.outcome])).toEqual([['../identity/key', 'refused'], ['.hidden', 'refused'], ['absent', 'refused'], ['disk', 'refused'], ['disk', 'refused'], ['disk', 'refused']]);
  });
});
