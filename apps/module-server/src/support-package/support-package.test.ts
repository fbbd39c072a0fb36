import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createLogger, type RootLogger } from '@dc/service-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { moduleserver as ms } from '../contracts';
import { type Harness, startHarness, TOKENS } from '../testing/broker-harness';
import { LOG_FILE, redact, scrubText } from './support-package';

const RING_LINES = 300;

describe('support package (SPEC 1.7.1)', () => {
  let h: Harness;
  let root: RootLogger;
  beforeAll(async () => {
    // The process logger as main.ts builds it (stdout swapped for a sink), with a small ring.
    root = createLogger({ name: 'module-server', destination: new Writable({ write: (_c, _e, cb) => cb() }), recentLines: { maxLines: RING_LINES } });
    h = await startHarness({ log: root.log, apiExtras: { support: { recentLogLines: () => root.recent() } } });
  });

  afterAll(async () => {
    await h.close();
  });

  /** Downloads the package: its file names, a reader of one file, its bytes and the size its header announced. */
  async function download(): Promise<{ names: string[]; read: (name: string) => string; data: Buffer; headerSize: number | false | undefined }> {
    const api = h.api(TOKENS.admin);
    const parts = await new Promise<ms.DownloadSupportPackageResponse[]>((resolve, reject) => {
      const out: ms.DownloadSupportPackageResponse[] = [];
      const s = api.admin.downloadSupportPackage(ms.DownloadSupportPackageRequest.fromPartial({}), api.metadata);
      s.on('data', (d: ms.DownloadSupportPackageResponse) => out.push(d));
      s.on('error', reject);
      s.on('end', () => resolve(out));
    });
    const header = parts.find((p) => p.part?.$case === 'header')?.part;
    const data = Buffer.concat(parts.flatMap((p) => (p.part?.$case === 'chunk' ? [p.part.value.data] : [])));
    const file = join(h.dataDir, 'support.zip');
    writeFileSync(file, data);
    const read = (name: string) => execFileSync('/usr/bin/python3', ['-c', 'import sys,zipfile; sys.stdout.write(zipfile.ZipFile(sys.argv[1]).read(sys.argv[2]).decode())', file, name], { encoding: 'utf8' });
    const names = execFileSync('/usr/bin/python3', ['-c', 'import sys,zipfile; print("\\n".join(zipfile.ZipFile(sys.argv[1]).namelist()))', file], { encoding: 'utf8' }).trim().split('\n');
    return { names, read, data, headerSize: header?.$case === 'header' && header.value.totalSizeBytes };
  }

  it('streams a ZIP in chunks with endpoints, sessions, events, certificate expiries and recent logs', async () => {
    const ep = await h.endpoint('support-01');
    const { names, read, data, headerSize } = await download();
    expect(headerSize).toBe(data.length);
    expect(names).toEqual(expect.arrayContaining(['info.json', 'settings.json', 'endpoints.json', 'sessions.json', 'events.json', 'alerts.json', 'certificates.json', 'zone-proxies.json', LOG_FILE]));
    expect(read('endpoints.json')).toContain(ep.identity.clientId);
    expect(read('events.json')).toContain('ENDPOINT_ENROLLED');
  });

  it('carries the recent log lines, redacted, from the in-memory ring', async () => {
    const session = root.log.child({ sessionId: 'sess-42' });
    session.info({ authorization: 'Bearer tok-in-field.123', req: { password: 'pw-in-request' }, key: 'key-material-1' }, 'module call with Bearer tok-in-message.456');
    const { names, read } = await download();
    expect(names).toContain(LOG_FILE);
    const text = read(LOG_FILE);
    expect(text).not.toMatch(/tok-in-field|tok-in-message|pw-in-request|key-material-1/);
    const lines = text.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const call = lines.find((l) => l.sessionId === 'sess-42');
    expect(call).toMatchObject({ service: 'module-server', authorization: '[redacted]', req: { password: '[redacted]' }, key: '[redacted]', msg: 'module call with Bearer [redacted]' });
    // The broker's own lines are there too (it logged while the first test enrolled an endpoint).
    expect(lines.length).toBeGreaterThan(1);
  });

  it('keeps only the newest lines the ring holds', async () => {
    for (let i = 0; i < RING_LINES * 3; i++) root.log.info({ i }, 'filler');
    const { read } = await download();
    const lines = read(LOG_FILE).trim().split('\n').map((l) => JSON.parse(l) as { i?: number });
    expect(lines.length).toBeLessThanOrEqual(RING_LINES);
    expect(lines.some((l) => l.i === 0)).toBe(false);
    expect(lines.some((l) => l.i === RING_LINES * 3 - 1)).toBe(true);
  });

  it('never carries a key or a token', () => {
    const cfg = redact({ settings: { tokenFile: '/etc/dc/token', token: 'abc' }, devTokens: { 'secret-token-123456': 'ADMINISTRATOR' }, ca: { keyFile: '/k.pem', keyPem: 'PEM' } }) as Record<string, Record<string, unknown>>;
    expect(JSON.stringify(cfg)).not.toMatch(/abc|secret-token|PEM/);
    expect(cfg.settings!.tokenFile).toBe('/etc/dc/token');
    expect(scrubText('x -----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY----- authorization: Bearer tok.123')).toBe('x [private key removed] authorization: Bearer [redacted]');
  });
});
