// Reveal's pattern compiler (SPEC 1.1.3): glob, regex and literal patterns from the session
// contract, checked once and compiled to matchers; a bad pattern is named with the rule it breaks.
import { sessionV1 as session } from '@dc/proto';

/** Longest expression accepted: longer ones are refused rather than risk slow matching. */
export const MAX_EXPRESSION_LENGTH = 1024;

/** A pattern that does not compile, with the rule it breaks and where. */
export class PatternError extends Error {
  constructor(
    readonly patternId: string,
    readonly rule: string,
    readonly offset: number,
  ) {
    super(`pattern "${patternId}": ${rule}`);
  }
}

/** A compiled pattern; `test` is given a path (absolute, relative to the root, base name) or a content line. */
export interface CompiledPattern {
  readonly id: string;
  matchPath(absolute: string, relative: string): boolean;
  matchLine(line: string): boolean;
}

/** Translates a shell glob (*, ?, [abc], [!abc], ** for any depth) to a regular expression source. */
export function globToRegExpSource(glob: string, id = ''): string {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') {
      if (glob[i + 1] === '*') {
        const slash = glob[i + 2] === '/';
        out += slash ? '(?:.*/)?' : '.*';
        i += slash ? 2 : 1;
      } else out += '[^/]*';
    } else if (c === '?') out += '[^/]';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end < 0) throw new PatternError(id, `unterminated character class at offset ${i}`, i);
      let body = glob.slice(i + 1, end);
      if (body.startsWith('!')) body = `^${body.slice(1)}`;
      out += `[${body.replace(/\\/g, '\\\\')}]`;
      i = end;
    } else if (c === '\\') {
      if (i + 1 >= glob.length) throw new PatternError(id, `dangling escape at offset ${i}`, i);
      out += glob[i + 1]!.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
      i++;
    } else out += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return out;
}

/** Compiles one pattern or throws a PatternError naming the rule broken. */
export function compilePattern(p: session.Pattern): CompiledPattern {
  const id = p.patternId || p.expression;
  if (p.expression.length === 0) throw new PatternError(id, 'expression must not be empty', 0);
  if (p.expression.length > MAX_EXPRESSION_LENGTH) throw new PatternError(id, `expression must be at most ${MAX_EXPRESSION_LENGTH} characters (got ${p.expression.length})`, MAX_EXPRESSION_LENGTH);
  if (p.expression.includes('\0')) throw new PatternError(id, `expression must not contain NUL (offset ${p.expression.indexOf('\0')})`, p.expression.indexOf('\0'));
  switch (p.syntax) {
    case session.PatternSyntax.PATTERN_SYNTAX_GLOB: {
      const source = globToRegExpSource(p.expression, id);
      let re: RegExp;
      let lineRe: RegExp;
      try {
        re = new RegExp(`^${source}$`, 'u');
        // In content, a glob matches anywhere in the line and its wildcards cross slashes.
        lineRe = new RegExp(source.replace(/\[\^\/\]/g, '.'), 'u');
      } catch (err) {
        throw new PatternError(id, `not a valid glob: ${(err as Error).message.replace(/^Invalid regular expression: /, '')}`, -1);
      }
      // A glob with a slash is a path (absolute, or relative to the root); without one, a base name.
      const absolute = p.expression.startsWith('/');
      const hasSlash = p.expression.includes('/');
      return {
        id,
        matchPath: (abs, rel) => (absolute ? re.test(abs) : hasSlash ? re.test(rel) : re.test(rel.slice(rel.lastIndexOf('/') + 1))),
        matchLine: (line) => lineRe.test(line),
      };
    }
    case session.PatternSyntax.PATTERN_SYNTAX_REGEX: {
      let re: RegExp;
      try {
        re = new RegExp(p.expression, 'u');
      } catch (err) {
        throw new PatternError(id, `not a valid ECMAScript regular expression: ${(err as Error).message.replace(/^Invalid regular expression: /, '')}`, -1);
      }
      return { id, matchPath: (abs) => re.test(abs), matchLine: (line) => re.test(line) };
    }
    case session.PatternSyntax.PATTERN_SYNTAX_LITERAL: {
      const text = p.expression;
      // A literal names a file (its base name or its absolute path); in content, any line containing it.
      return { id, matchPath: (abs, rel) => abs === text || rel.slice(rel.lastIndexOf('/') + 1) === text, matchLine: (line) => line.includes(text) };
    }
    default:
      throw new PatternError(id, `syntax must be GLOB, REGEX or LITERAL (got ${session.patternSyntaxToJSON(p.syntax)})`, -1);
  }
}

/** Pattern validation (SPEC 1.1.3): one verdict per pattern, in request order. */
export function validatePatterns(v: session.PatternValidation): session.PatternValidationResult {
  return {
    verdicts: v.patterns.map((p) => {
      try {
        compilePattern(p);
        return { patternId: p.patternId, valid: true, error: '', errorOffset: -1 };
      } catch (err) {
        if (!(err instanceof PatternError)) throw err;
        return { patternId: p.patternId, valid: false, error: err.rule, errorOffset: err.offset };
      }
    }),
  };
}
