import { spawn } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { checkMonitorDbFile } from '../integrity';
import { openMonitorDb } from '../monitor-db';
import { tempDir } from '../test-support';

// tsx as a loader in the same process (its CLI would put the writer in a grandchild SIGKILL misses).
const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const fixture = join(__dirname, 'fixtures', 'crash-writer.ts');
const PER_BATCH = 1000;

/** Starts the writer child, kills it with SIGKILL after `batches` reported commits, returns the last seq reported. */
function runAndKill(dbPath: string, batches: number): Promise<{ lastSeq: number; signal: NodeJS.Signals | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', tsxLoader, fixture, dbPath, String(PER_BATCH)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let buffered = '';
    let stderr = '';
    let lastSeq = -1;
    let seen = 0;
    const deadline = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`writer child reported ${seen} batches before the deadline; stderr: ${stderr}`));
    }, 60_000);
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      buffered += d.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        lastSeq = Number(line.split(' ')[1]);
        seen++;
      }
      if (seen >= batches && child.exitCode === null && !child.killed) child.kill('SIGKILL');
    });
    child.on('exit', (_code, signal) => {
      clearTimeout(deadline);
      // Lines still in the pipe were printed after their commit: count them too.
      for (const line of buffered.split('\n').filter(Boolean)) lastSeq = Number(line.split(' ')[1]);
      resolve({ lastSeq, signal });
    });
  });
}

describe('crash safety', () => {
  it('keeps every committed batch and a sound file when the writer is killed mid-write', async () => {
    const tmp = tempDir();
    try {
      for (const round of [1, 2]) {
        // The second round appends to the database the first killed writer left behind.
        const { lastSeq, signal } = await runAndKill(tmp.dbPath, 10);
        expect(signal).toBe('SIGKILL');
        expect(lastSeq).toBeGreaterThanOrEqual(10 * PER_BATCH - 1);

        // Checked as found, before anything of ours opens it for writing...
        expect(checkMonitorDbFile(tmp.dbPath, { full: true })).toMatchObject({ ok: true, problems: [] });
        expect(execFileSync('/usr/bin/sqlite3', [tmp.dbPath, 'PRAGMA integrity_check'], { encoding: 'utf8' }).trim()).toBe('ok');

        // ...and every reported batch is there, with no partial batch after it.
        const db = openMonitorDb({ path: tmp.dbPath });
        const raw = db.connection().db;
        const seqs = raw.prepare("SELECT json_extract(details, '$.seq') FROM file_events WHERE path LIKE '/crash/%' ORDER BY id").pluck().all() as number[];
        const written = seqs.length;
        expect(written).toBeGreaterThanOrEqual(lastSeq + 1);
        expect(written % PER_BATCH).toBe(0);
        // Each run numbers from 0; rounds follow each other in id order.
        expect(raw.prepare('SELECT count(*) FROM file_events').pluck().get()).toBe(written);
        const runSeqs = new Set(round === 1 ? seqs : seqs.slice(seqs.indexOf(0, 1)));
        const missing = Array.from({ length: lastSeq + 1 }, (_, i) => i).filter((i) => !runSeqs.has(i));
        expect(missing).toEqual([]);
        db.close();
      }
    } finally {
      tmp.cleanup();
    }
  });
});
