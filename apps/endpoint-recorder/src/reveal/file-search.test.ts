import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sessionV1 as session } from '@dc/proto';
import { makeTempDir } from '@dc/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SessionRequestError } from '../connectivity/session-requests';
import { findFiles, type FileSearchOptions } from './file-search';

const S = session.PatternSyntax;
const glob = (expression: string) => ({ patternId: expression, syntax: S.PATTERN_SYNTAX_GLOB, expression });

async function run(search: Partial<session.FileSearch>, opts?: FileSearchOptions): Promise<session.FileSearchChunk[]> {
  const out: session.FileSearchChunk[] = [];
  for await (const c of findFiles(session.FileSearch.fromPartial(search), opts)) out.push(c);
  return out;
}
const paths = (chunks: session.FileSearchChunk[]) => chunks.flatMap((c) => c.matches.map((m) => m.path)).sort();

describe('Reveal file search', () => {
  const tmp = makeTempDir('dc-reveal-');
  const outside = makeTempDir('dc-reveal-out-');
  let root: string;
  beforeAll(() => {
    root = join(tmp.dir, 'root');
    mkdirSync(join(root, 'a', 'b', 'c'), { recursive: true });
    writeFileSync(join(root, 'top.pem'), 'cert');
    writeFileSync(join(root, 'a', 'app.conf'), 'name = app\npassword = hunter2\n');
    writeFileSync(join(root, 'a', 'b', 'deep.pem'), 'x');
    writeFileSync(join(root, 'a', 'b', 'c', 'deeper.pem'), 'x');
    writeFileSync(join(root, 'a', 'big.conf'), `password = ${'x'.repeat(5000)}\n`);
    writeFileSync(join(outside.dir, 'stolen.pem'), 'secret outside the root');
    symlinkSync(join(outside.dir, 'stolen.pem'), join(root, 'link-out.pem'));
    symlinkSync(outside.dir, join(root, 'dir-out'));
    symlinkSync(join(root, 'top.pem'), join(root, 'link-in.pem'));
    execFileSync('mkfifo', [join(root, 'pipe.pem')]);
  });
  afterAll(() => {
    tmp.remove();
    outside.remove();
  });

  it('finds files by path pattern with size, owner and hash, never through links leaving the root, skipping FIFOs', async () => {
    const chunks = await run({ rules: [{ name: 'certs', roots: [root], pathPatterns: [glob('*.pem')], exclusions: [], contentPatterns: [] }], hashFiles: true });
    expect(paths(chunks)).toEqual(['a/b/c/deeper.pem', 'a/b/deep.pem', 'link-in.pem', 'top.pem'].map((p) => join(root, p)));
    const top = chunks.flatMap((c) => c.matches).find((m) => m.path.endsWith('top.pem'))!;
    expect(top).toMatchObject({ sizeBytes: 4, rules: ['certs'], sha256: createHash('sha256').update('cert').digest('hex') });
    expect(top.owner).not.toBe('');
    expect(chunks.at(-1)!.truncated).toBe(false);
  });

  it('stops at max_depth and honours exclusions', async () => {
    const chunks = await run({ rules: [{ name: 'certs', roots: [root], pathPatterns: [glob('*.pem')], exclusions: [glob('top.pem')], contentPatterns: [] }], maxDepth: 2 });
    expect(paths(chunks)).toEqual(['a/b/deep.pem', 'link-in.pem'].map((p) => join(root, p)));
  });

  it('matches content with an excerpt, and does not read files above max_content_bytes', async () => {
    const rule = { name: 'passwords', roots: [root], pathPatterns: [glob('*.conf')], exclusions: [], contentPatterns: [{ patternId: 'pw', syntax: S.PATTERN_SYNTAX_REGEX, expression: '^password\\s*=' }] };
    const small = await run({ rules: [rule], maxContentBytes: 1000 });
    expect(small.flatMap((c) => c.matches).map((m) => [m.path, m.excerpt])).toEqual([[join(root, 'a', 'app.conf'), 'password = hunter2']]);
    const all = await run({ rules: [rule] });
    const big = all.flatMap((c) => c.matches).find((m) => m.path.endsWith('big.conf'))!;
    expect(big.excerpt.length).toBe(256);
  });

  it('streams in chunks and marks the last one truncated when max_results cuts the search', async () => {
    const chunks = await run({ rules: [{ name: 'all', roots: [root], pathPatterns: [], exclusions: [], contentPatterns: [] }], maxResults: 3 }, { chunkSize: 2 });
    expect(chunks.map((c) => c.matches.length)).toEqual([2, 1]);
    expect(chunks.map((c) => c.truncated)).toEqual([false, true]);
    expect(chunks.at(-1)!.filesScanned).toBeGreaterThanOrEqual(4);
  });

  it('refuses relative, non-normalised, missing and pseudo-filesystem roots, and bad patterns, naming the field', async () => {
    const refuse = async (roots: string[], extra: Partial<session.FileRule> = {}) => {
      try {
        await run({ rules: [{ name: 'r', roots, pathPatterns: [], exclusions: [], contentPatterns: [], ...extra }] });
      } catch (err) {
        expect(err).toBeInstanceOf(SessionRequestError);
        const e = err as SessionRequestError;
        return `${e.field}: ${e.message}`;
      }
      throw new Error('not refused');
    };
    expect(await refuse(['etc'])).toBe('find_files.rules[0].roots[0]: root "etc" must be an absolute path');
    expect(await refuse([`${root}/../root`])).toMatch(/roots\[0\]: root .* must be a normalised path/);
    expect(await refuse([root, join(root, 'nope')])).toMatch(/roots\[1\]: root .* does not exist on this endpoint/);
    expect(await refuse(['/proc'])).toMatch(/is under \/proc, a kernel pseudo-filesystem/);
    expect(await refuse([join(root, 'top.pem')])).toMatch(/must be a directory/);
    expect(await refuse([root], { contentPatterns: [glob('ok'), { patternId: 'bad', syntax: S.PATTERN_SYNTAX_REGEX, expression: '[' }] })).toMatch(/^find_files\.rules\[0\]\.content_patterns\[1\]: pattern "bad": not a valid ECMAScript regular expression/);
    await expect(run({ rules: [] })).rejects.toThrow('at least one rule is required');
    // From /, the walk passes over /proc: its live files are not content.
    const fromSlash = await run({ rules: [{ name: 'r', roots: ['/'], pathPatterns: [{ patternId: 'u', syntax: S.PATTERN_SYNTAX_LITERAL, expression: 'uptime' }], exclusions: [], contentPatterns: [] }], maxDepth: 1 });
    expect(paths(fromSlash)).toEqual([]);
    await expect(run({ rules: [{ name: 'r', roots: [root], pathPatterns: [], exclusions: [], contentPatterns: [] }], maxResults: 20_000 })).rejects.toThrow('must be at most 10000 (got 20000)');
  });
});

describe('Reveal file search over a large tree', () => {
  const tmp = makeTempDir('dc-reveal-big-');
  beforeAll(() => {
    for (let d = 0; d < 5; d++) {
      mkdirSync(join(tmp.dir, `d${d}`));
      for (let f = 0; f < 20; f++) writeFileSync(join(tmp.dir, `d${d}`, `f${f}.txt`), 'x');
    }
  });
  afterAll(() => tmp.remove());
  const rule = () => ({ name: 'none', roots: [tmp.dir], pathPatterns: [glob('*.none')], exclusions: [], contentPatterns: [] });

  it('sends progress chunks while nothing matches, so a long search can be followed and cancelled', async () => {
    const chunks = await run({ rules: [rule()] }, { progressEvery: 25 });
    expect(chunks.map((c) => c.filesScanned)).toEqual([25, 50, 75, 100, 100]);
    expect(chunks.every((c) => c.matches.length === 0)).toBe(true);
  });

  it('answers DEADLINE_EXCEEDED when the search outruns its time budget', async () => {
    let t = 0;
    const clock = () => (t += 1000);
    const err = await run({ rules: [rule()] }, { clock, timeBudgetMs: 10_000 }).then(
      () => undefined,
      (e: unknown) => e as SessionRequestError,
    );
    expect(err?.code).toBe(session.SessionErrorCode.SESSION_ERROR_CODE_DEADLINE_EXCEEDED);
    expect(err?.message).toBe('the search ran out of its 10 s after scanning 11 files and finding 0; narrow the roots or patterns');
  });
});
