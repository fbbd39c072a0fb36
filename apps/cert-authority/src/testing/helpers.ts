// Test helpers: temp dirs, the openssl CLI, CSRs made the way an endpoint would make them.
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const OPENSSL = '/usr/bin/openssl';

export function tempDir(prefix = 'dc-ca-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface OpensslResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function openssl(args: readonly string[], input?: string): OpensslResult {
  const r = spawnSync(OPENSSL, args, { input, encoding: 'utf8', timeout: 20_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Writes files into dir and returns their paths, for openssl arguments. */
export function writeFiles(dir: string, files: Record<string, string>): Record<string, string> {
  const paths: Record<string, string> = {};
  for (const [name, text] of Object.entries(files)) {
    paths[name] = join(dir, name);
    writeFileSync(paths[name]!, text);
  }
  return paths;
}

/** `openssl verify` of a leaf against a CA bundle, optionally checking a CRL; true when OK. */
export function opensslVerify(dir: string, leafPem: string, caPem: string, opts: { crlPem?: string; purpose?: 'sslserver' | 'sslclient'; atEpochSeconds?: number } = {}): OpensslResult & { ok: boolean } {
  const p = writeFiles(dir, { 'verify-leaf.pem': leafPem, 'verify-ca.pem': caPem, ...(opts.crlPem ? { 'verify-crl.pem': opts.crlPem } : {}) });
  const args = ['verify', '-CAfile', p['verify-ca.pem']!];
  if (opts.crlPem) args.push('-crl_check', '-CRLfile', p['verify-crl.pem']!);
  if (opts.purpose) args.push('-purpose', opts.purpose);
  if (opts.atEpochSeconds !== undefined) args.push('-attime', String(opts.atEpochSeconds));
  args.push(p['verify-leaf.pem']!);
  const r = openssl(args);
  return { ...r, ok: r.status === 0 && r.stdout.includes(': OK') };
}

export interface KeyPair {
  readonly privateKey: KeyObject;
  readonly privateKeyPem: string;
}

export function rsaKey(bits = 2048): KeyPair {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: bits });
  return { privateKey, privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
}

/** A CSR made by `openssl req`, as an endpoint would; subject "/" is empty. */
export function opensslCsr(dir: string, keyPem: string, subject = '/', extra: readonly string[] = []): string {
  const p = writeFiles(dir, { 'csr-key.pem': keyPem });
  const r = openssl(['req', '-new', '-key', p['csr-key.pem']!, '-subj', subject, ...extra]);
  if (r.status !== 0) throw new Error(`openssl req failed: ${r.stderr}`);
  return r.stdout;
}
