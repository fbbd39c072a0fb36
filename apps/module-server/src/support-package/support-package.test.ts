import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { moduleserver as ms } from '../contracts';
import { type Harness, startHarness, TOKENS } from '../testing/broker-harness';
import { redact, scrubText } from './support-package';

describe('support package (SPEC 1.7.1)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  it('streams a ZIP in chunks with endpoints, sessions, events and certificate expiries', async () => {
    const ep = await h.endpoint('support-01');
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
    expect(header?.$case === 'header' && header.value.totalSizeBytes).toBe(data.length);
    const file = join(h.dataDir, 'support.zip');
    writeFileSync(file, data);
    const read = (name: string) => execFileSync('/usr/bin/python3', ['-c', 'import sys,zipfile; print(zipfile.ZipFile(sys.argv[1]).read(sys.argv[2]).decode())', file, name], { encoding: 'utf8' });
    const names = execFileSync('/usr/bin/python3', ['-c', 'import sys,zipfile; print("\\n".join(zipfile.ZipFile(sys.argv[1]).namelist()))', file], { encoding: 'utf8' }).trim().split('\n');
    expect(names).toEqual(expect.arrayContaining(['info.json', 'settings.json', 'endpoints.json', 'sessions.json', 'events.json', 'alerts.json', 'certificates.json', 'zone-proxies.json', 'logs/recent.jsonl']));
    expect(read('endpoints.json')).toContain(ep.identity.clientId);
    expect(read('events.json')).toContain('ENDPOINT_ENROLLED');
  });

  it('never carries a key or a token', () => {
    const cfg = redact({ settings: { tokenFile: '/etc/dc/token', token: 'abc' }, devTokens: { 'secret-token-123456': 'ADMINISTRATOR' }, ca: { keyFile: '/k.pem', keyPem: 'PEM' } }) as Record<string, Record<string, unknown>>;
    expect(JSON.stringify(cfg)).not.toMatch(/abc|secret-token|PEM/);
    expect(cfg.settings!.tokenFile).toBe('/etc/dc/token');
    expect(scrubText('x -----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY----- authorization: Bearer tok.123')).toBe('x [private key removed] authorization: Bearer [redacted]');
  });
});
