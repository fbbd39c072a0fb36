// Protect's key store (SPEC 1.1.3): keys held on the endpoint in <tools dir>/keys/<key id>.key,
// each a 0600 file owned by the recorder's user; every retrieval, allowed or refused, is appended
// to <tools dir>/keys/access.log, and a key leaves encrypted to the caller's RSA key when one is given.
import { constants as cryptoConstants, createPublicKey, publicEncrypt, type KeyObject } from 'node:crypto';
import { closeSync, constants, fstatSync, fsyncSync, openSync, readSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { sessionV1 as session } from '@dc/proto';
import { type SessionRequestContext, SessionRequestError } from '../connectivity/session-requests';

/** A key id: a file name, never a path (letters, digits, '.', '_', '-'; 1–128 characters; no leading dot). */
export const KEY_ID = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$/;
/** Key files larger than this are not keys. */
export const MAX_KEY_BYTES = 4096;
export const MIN_RECIPIENT_BITS = 2048; // session.proto KeyRetrieval.recipient_public_key_pem
const MAX_JUSTIFICATION = 1024;

export interface KeyStoreOptions {
  /** The key store directory, <tools dir>/keys. */
  readonly dir: string;
  /** The recorder's user; key files must belong to it. Defaults to this process's uid. */
  readonly uid?: number;
  readonly clock?: () => number;
}

/** One line of access.log: when, who asked (session, module, request), which key and why. Never the key. */
export interface KeyAccessRecord {
  readonly time: string;
  readonly sessionId: string;
  readonly moduleName: string;
  readonly requestId: string;
  readonly keyId: string;
  readonly justification: string;
  readonly wrapped: boolean;
  readonly outcome: 'allowed' | 'refused';
  readonly reason?: string;
}

const E = session.SessionErrorCode;

export function keyStoreDir(toolsDir: string): string {
  return join(toolsDir, 'keys');
}

export function accessLogPath(dir: string): string {
  return join(dir, 'access.log');
}

/** Names the algorithm from the key's length: raw AES keys are 16, 24 or 32 bytes. */
function algorithmOf(bytes: number): string {
  return bytes === 16 || bytes === 24 || bytes === 32 ? `AES-${bytes * 8}` : `RAW-${bytes * 8}`;
}

function recipientKey(pem: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch (err) {
    throw new SessionRequestError(E.SESSION_ERROR_CODE_INVALID_ARGUMENT, 'retrieve_key.recipient_public_key_pem', `must be a PEM public key (${(err as Error).message})`);
  }
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (key.asymmetricKeyType !== 'rsa') throw new SessionRequestError(E.SESSION_ERROR_CODE_INVALID_ARGUMENT, 'retrieve_key.recipient_public_key_pem', `must be an RSA key (got ${key.asymmetricKeyType})`);
  if (bits < MIN_RECIPIENT_BITS) throw new SessionRequestError(E.SESSION_ERROR_CODE_INVALID_ARGUMENT, 'retrieve_key.recipient_public_key_pem', `must be at least ${MIN_RECIPIENT_BITS} bits (got ${bits})`);
  return key;
}

/** Appends one record to access.log (0600), synced before the answer leaves: no retrieval goes unrecorded. */
function appendAccess(dir: string, record: KeyAccessRecord): void {
  const fd = openSync(accessLogPath(dir), constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW, 0o600);
  try {
    writeSync(fd, `${JSON.stringify(record)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Reads the key file, refusing anything but a regular 0600 (or 0400) file owned by `uid`. */
function readKeyFile(dir: string, keyId: string, uid: number): { material: Buffer; created: Date } {
  let dirStat;
  try {
    dirStat = statSync(dir);
  } catch {
    throw new SessionRequestError(E.SESSION_ERROR_CODE_NOT_FOUND, 'retrieve_key.key_id', `key "${keyId}": this endpoint has no key store (${dir})`);
  }
  if ((dirStat.mode & 0o022) !== 0) throw new SessionRequestError(E.SESSION_ERROR_CODE_PERMISSION_DENIED, 'retrieve_key.key_id', `key "${keyId}": the key store ${dir} is writable by group or others (mode ${(dirStat.mode & 0o777).toString(8)}); it must be 0700`);
  const file = join(dir, `${keyId}.key`);
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new SessionRequestError(E.SESSION_ERROR_CODE_NOT_FOUND, 'retrieve_key.key_id', `key "${keyId}" is not in this endpoint's key store`);
    if (code === 'ELOOP') throw new SessionRequestError(E.SESSION_ERROR_CODE_PERMISSION_DENIED, 'retrieve_key.key_id', `key "${keyId}": ${file} is a symbolic link; key files must be regular files`);
    throw new SessionRequestError(E.SESSION_ERROR_CODE_PERMISSION_DENIED, 'retrieve_key.key_id', `key "${keyId}": ${file} cannot be opened (${code})`);
  }
  try {
    const st = fstatSync(fd);
    const mode = st.mode & 0o7777;
    if (!st.isFile()) throw new SessionRequestError(E.SESSION_ERROR_CODE_PERMISSION_DENIED, 'retrieve_key.key_id', `key "${keyId}": ${file} is not a regular file`);
    if (mode !== 0o600 && mode !== 0o400) throw new SessionRequestError(E.SESSION_ERROR_CODE_PERMISSION_DENIED, 'retrieve_key.key_id', `key "${keyId}": ${file} has mode ${mode.toString(8).padStart(4, '0')}; key files must be 0600 (readable by their owner only)`);
    if (st.uid !== uid) throw new SessionRequestError(E.SESSION_ERROR_CODE_PERMISSION_DENIED, 'retrieve_key.key_id', `key "${keyId}": ${file} is owned by uid ${st.uid}; key files must belong to the recorder's user (uid ${uid})`);
    if (st.size === 0 || st.size > MAX_KEY_BYTES) throw new SessionRequestError(E.SESSION_ERROR_CODE_FAILED_PRECONDITION, 'retrieve_key.key_id', `key "${keyId}": ${file} holds ${st.size} bytes; a key is 1–${MAX_KEY_BYTES} bytes`);
    const material = Buffer.alloc(st.size);
    let off = 0;
    while (off < st.size) {
      const n = readSync(fd, material, off, st.size - off, off);
      if (n === 0) break;
      off += n;
    }
    if (off !== st.size) throw new SessionRequestError(E.SESSION_ERROR_CODE_FAILED_PRECONDITION, 'retrieve_key.key_id', `key "${keyId}": ${file} changed while it was read`);
    return { material, created: st.birthtimeMs > 0 ? st.birthtime : st.mtime };
  } finally {
    closeSync(fd);
  }
}

// The context comes from the broker; bounded so a record stays one short line.
const MAX_CONTEXT = 200;

/** Key retrieval (Protect, SPEC 1.1.3): checks, reads, wraps and records who asked; refusals are recorded too. */
export function retrieveKey(r: session.KeyRetrieval, opts: KeyStoreOptions, context: SessionRequestContext): session.RetrievedKey {
  const clock = opts.clock ?? Date.now;
  const uid = opts.uid ?? process.getuid?.() ?? -1;
  const keyId = r.keyId.slice(0, 200);
  const justification = r.justification.slice(0, MAX_JUSTIFICATION);
  const wrapped = r.recipientPublicKeyPem !== '';
  const who = { sessionId: context.sessionId.slice(0, MAX_CONTEXT), moduleName: context.moduleName.slice(0, MAX_CONTEXT), requestId: context.requestId.slice(0, MAX_CONTEXT) };
  const record = (outcome: 'allowed' | 'refused', reason?: string) => appendAccess(opts.dir, { time: new Date(clock()).toISOString(), ...who, keyId, justification, wrapped, outcome, ...(reason ? { reason } : {}) });
  let result: session.RetrievedKey;
  try {
    if (!KEY_ID.test(r.keyId)) throw new SessionRequestError(E.SESSION_ERROR_CODE_INVALID_ARGUMENT, 'retrieve_key.key_id', `key id ${JSON.stringify(keyId)} must be a plain name: letters, digits, '.', '_', '-', 1–128 characters, no leading dot, no path separators`);
    if (!r.justification.trim()) throw new SessionRequestError(E.SESSION_ERROR_CODE_INVALID_ARGUMENT, 'retrieve_key.justification', 'is required: every key retrieval is recorded with its reason');
    const recipient = wrapped ? recipientKey(r.recipientPublicKeyPem) : undefined;
    const { material, created } = readKeyFile(opts.dir, r.keyId, uid);
    let out = material;
    if (recipient) {
      try {
        out = publicEncrypt({ key: recipient, padding: cryptoConstants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, material);
      } catch (err) {
        throw new SessionRequestError(E.SESSION_ERROR_CODE_FAILED_PRECONDITION, 'retrieve_key.recipient_public_key_pem', `key "${keyId}" (${material.length} bytes) cannot be encrypted to this recipient key: ${(err as Error).message}`);
      } finally {
        if (out !== material) material.fill(0);
      }
    }
    result = { keyId: r.keyId, algorithm: algorithmOf(material.length), keyMaterial: out, wrapped, createdTime: created };
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    try {
      record('refused', reason);
    } catch {
      // no key store to log into (or it is unwritable): the refusal stands, the broker's audit log has it
    }
    throw err;
  }
  // A key is handed out only once its retrieval is on disk in the access log.
  try {
    record('allowed');
  } catch (err) {
    result.keyMaterial.fill(0);
    throw new SessionRequestError(E.SESSION_ERROR_CODE_FAILED_PRECONDITION, 'retrieve_key.key_id', `key "${keyId}" is withheld: its retrieval cannot be recorded in ${accessLogPath(opts.dir)} (${(err as Error).message})`);
  }
  return result;
}
