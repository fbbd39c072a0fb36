import { sessionV1 as session } from '@dc/proto';
import { describe, expect, it } from 'vitest';
import { compilePattern, validatePatterns } from './patterns';

const S = session.PatternSyntax;
const p = (syntax: session.PatternSyntax, expression: string, patternId = 'p') => ({ patternId, syntax, expression });

describe('Reveal patterns', () => {
  it('matches a slash-less glob against the base name and a glob with ** across directories', () => {
    const base = compilePattern(p(S.PATTERN_SYNTAX_GLOB, '*.pem'));
    expect(base.matchPath('/r/a/b/server.pem', 'a/b/server.pem')).toBe(true);
    expect(base.matchPath('/r/a/server.pem.bak', 'a/server.pem.bak')).toBe(false);
    const deep = compilePattern(p(S.PATTERN_SYNTAX_GLOB, 'etc/**/*.conf'));
    expect(deep.matchPath('/r/etc/x.conf', 'etc/x.conf')).toBe(true);
    expect(deep.matchPath('/r/etc/a/b/x.conf', 'etc/a/b/x.conf')).toBe(true);
    expect(deep.matchPath('/r/var/x.conf', 'var/x.conf')).toBe(false);
    const cls = compilePattern(p(S.PATTERN_SYNTAX_GLOB, 'id_[!d]sa'));
    expect(cls.matchPath('/h/id_rsa', 'id_rsa')).toBe(true);
    expect(cls.matchPath('/h/id_dsa', 'id_dsa')).toBe(false);
  });

  it('matches regexes against the absolute path and literals against the base name or in a line', () => {
    const re = compilePattern(p(S.PATTERN_SYNTAX_REGEX, '/secrets?/'));
    expect(re.matchPath('/srv/secret/a', 'secret/a')).toBe(true);
    expect(re.matchPath('/srv/public/a', 'public/a')).toBe(false);
    const lit = compilePattern(p(S.PATTERN_SYNTAX_LITERAL, 'a.b'));
    expect(lit.matchPath('/x/a.b', 'a.b')).toBe(true);
    expect(lit.matchPath('/x/aXb', 'aXb')).toBe(false);
    expect(lit.matchLine('key = a.b;')).toBe(true);
  });

  it('names each bad pattern with the rule it breaks, in request order', () => {
    const result = validatePatterns({
      patterns: [p(S.PATTERN_SYNTAX_GLOB, '*.log', 'ok'), p(S.PATTERN_SYNTAX_GLOB, 'ab[cd', 'class'), p(S.PATTERN_SYNTAX_REGEX, '(unclosed', 're'), p(S.PATTERN_SYNTAX_LITERAL, '', 'empty'), p(S.PATTERN_SYNTAX_UNSPECIFIED, 'x', 'syntax'), p(S.PATTERN_SYNTAX_GLOB, 'x'.repeat(2000), 'long')],
    });
    expect(result.verdicts.map((v) => [v.patternId, v.valid])).toEqual([['ok', true], ['class', false], ['re', false], ['empty', false], ['syntax', false], ['long', false]]);
    expect(result.verdicts[1]).toMatchObject({ error: 'unterminated character class at offset 2', errorOffset: 2 });
    expect(result.verdicts[2]!.error).toMatch(/not a valid ECMAScript regular expression/);
    expect(result.verdicts[3]!.error).toBe('expression must not be empty');
    expect(result.verdicts[4]!.error).toMatch(/syntax must be GLOB, REGEX or LITERAL \(got PATTERN_SYNTAX_UNSPECIFIED\)/);
    expect(result.verdicts[5]!.error).toMatch(/at most 1024 characters \(got 2000\)/);
  });
});
