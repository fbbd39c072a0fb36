// The filter of a recorder-events query (session.proto EventQuery.filter): one condition of the
// filters.json language (@dc/filters), evaluated on each stored event seen through the field
// names filters.json rules use on live audit events, so a rule an operator wrote works as a query.
import { compileCondition, FilterValidationError, formatIssue, parseConditionJson, type FilterEvent, type ValidationIssue } from '@dc/filters';
import type { EventRow } from '@dc/monitor-db';

/** Thrown when the filter text is not a condition; names the offset in the text and the rule broken. */
export class EventFilterRefused extends Error {
  constructor(
    /** Character offset (0-based) in the filter text of the first problem. */
    readonly offset: number,
    message: string,
  ) {
    super(message);
    this.name = 'EventFilterRefused';
  }
}

const EXAMPLE = '{"field": "exe", "endsWith": "/curl"}';

/**
 * Parses and compiles the filter; empty text is no filter. Call it before reading any row.
 * @throws EventFilterRefused for text that is not JSON or not a condition of the language
 */
export function compileEventFilter(text: string): ((row: EventRow) => boolean) | undefined {
  if (!text.trim()) return undefined;
  let offsets: Map<string, number>;
  try {
    offsets = scanJson(text);
  } catch (err) {
    if (!(err instanceof JsonSyntaxError)) throw err;
    throw new EventFilterRefused(err.offset, `must be a JSON object in the filters.json condition language, e.g. ${EXAMPLE}: invalid JSON at offset ${err.offset}: ${err.message}`);
  }
  let predicate: (event: FilterEvent) => boolean;
  try {
    predicate = compileCondition(parseConditionJson(JSON.parse(text), 'filter'));
  } catch (err) {
    if (!(err instanceof FilterValidationError)) throw err;
    const at = (issue: ValidationIssue) => offsetOfPath(offsets, issue.path);
    const first = err.issues[0]!;
    const problems = err.issues.map((i) => `at offset ${at(i)}: ${formatIssue(i)}`).join('; ');
    throw new EventFilterRefused(at(first), `is not a condition of the filters.json language (e.g. ${EXAMPLE}): ${problems}`);
  }
  return (row) => predicate(filterView(row));
}

/** The offset of a JSONPath, or of its nearest ancestor present in the text (a missing key's object). */
function offsetOfPath(offsets: ReadonlyMap<string, number>, path: string): number {
  for (let p = path; ; ) {
    const found = offsets.get(p);
    if (found !== undefined) return found;
    const parent = p.replace(/(\.[A-Za-z_$][\w$]*|\[[^[\]]*\]|\["(?:[^"\\]|\\.)*"\])$/, '');
    if (parent === p) return 0;
    p = parent;
  }
}

/** Thrown by {@link scanJson} at the first character that breaks the JSON grammar (RFC 8259). */
export class JsonSyntaxError extends Error {
  constructor(
    readonly offset: number,
    readonly expected: string,
    found: string | undefined,
  ) {
    super(`expected ${expected}, found ${found === undefined ? 'the end of the text' : JSON.stringify(found)}`);
    this.name = 'JsonSyntaxError';
  }
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const STRING_BODY = /(?:[^"\\\u0000-\u001f]|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4})*/y;

/**
 * Checks JSON text and returns the offset of every value by JSONPath, in the form @dc/filters
 * names issues (`$`, `$.all[0].field`, `$["a b"]`): an object member at its key, an array
 * element at its value. V8's own messages do not always name a position, so this one does.
 * @throws JsonSyntaxError at the first offset that breaks the grammar
 */
export function scanJson(text: string): Map<string, number> {
  const out = new Map<string, number>();
  let i = 0;
  const fail = (expected: string): never => {
    throw new JsonSyntaxError(i, expected, text[i]);
  };
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
  };
  const expect = (c: string, what: string) => {
    if (text[i] !== c) fail(what);
    i++;
  };
  const string = (): string => {
    const start = i;
    expect('"', 'a string');
    STRING_BODY.lastIndex = i;
    STRING_BODY.exec(text);
    i = STRING_BODY.lastIndex;
    expect('"', 'the end of the string (control characters and unknown escapes are not allowed)');
    return JSON.parse(text.slice(start, i)) as string;
  };
  const value = (path: string, at: number, depth: number): void => {
    ws();
    if (depth > 64) fail('less nesting (at most 64 levels)');
    out.set(path, at < 0 ? i : at);
    const c = text[i];
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') {
        i++;
        return;
      }
      for (;;) {
        ws();
        const keyAt = i;
        if (text[i] !== '"') fail('a member name in double quotes');
        const key = string();
        ws();
        expect(':', '":" after the member name');
        value(/^[A-Za-z_$][\w$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`, keyAt, depth + 1);
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        expect('}', '"," or "}"');
        return;
      }
    } else if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') {
        i++;
        return;
      }
      for (let n = 0; ; n++) {
        value(`${path}[${n}]`, -1, depth + 1);
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        expect(']', '"," or "]"');
        return;
      }
    } else if (c === '"') {
      string();
    } else if (c === 't' || c === 'f' || c === 'n') {
      const word = c === 't' ? 'true' : c === 'f' ? 'false' : 'null';
      if (text.startsWith(word, i)) i += word.length;
      else fail(`"${word}"`);
    } else {
      NUMBER.lastIndex = i;
      if (!NUMBER.test(text)) fail('a value (object, array, string, number, true, false or null)');
      i = NUMBER.lastIndex;
    }
  };
  value('$', -1, 0);
  ws();
  if (i < text.length) fail('the end of the text');
  return out;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);

/** Fields every row has, shown under `process`, `timestamp` and `node` instead. */
const ROW_BASE_FIELDS = ['id', 'time', 'family', 'processId', 'pid', 'uid', 'user', 'exe', 'comm', 'details'] as const;

/**
 * A stored event as filters.json sees an event (the @dc/audit field names of the libs/filters
 * README): `process.*`, `node`, `timestamp` for every family; `exe`, `argv`, `argc`, `proctitle`
 * for process; `operation`, `path`, `oldPath`, `inode`, `mode`, `cwd` for file; `operation`,
 * `remote.*`, `local.*` for network; `action`, `account`, `result`, … for security. Families the
 * audit stream does not produce (dns, registry, image) show their stored fields by name.
 */
export function filterView(row: EventRow): FilterEvent {
  // @dc/filters treats null and undefined as a missing field (only `exists: false` matches), as in a live event.
  const d = row.details ?? {};
  const process = {
    pid: row.pid, uid: row.uid, comm: row.comm, user: row.user, auid: num(d.auid), ses: num(d.ses), syscall: str(d.syscall), key: str(d.key),
    // A security event keeps the executable its own message named (details.exe); the joined process row may be another's.
    exe: row.family === 'security' ? str(d.exe) : row.exe,
    ppid: row.family === 'process' ? row.ppid : undefined,
    success: row.family === 'file' || row.family === 'network' ? row.success : undefined,
  };
  const timestamp = row.time;
  const node = str(d.node);
  switch (row.family) {
    case 'process': {
      // An exec without EXECVE or PROCTITLE records has neither argc nor proctitle live: keep them missing.
      // monitor.db keeps argv only, so proctitle is argv joined by spaces (what the PROCTITLE record holds).
      const argv = row.argv ?? [];
      const some = argv.length > 0;
      return { timestamp, node, process, exe: row.exe, argv, argc: num(d.argc) ?? (some ? argv.length : undefined), proctitle: some ? argv.join(' ') : undefined };
    }
    case 'file':
      return {
        timestamp, node, process, operation: row.operation, path: row.path, oldPath: row.oldPath, inode: num(d.inode), cwd: str(d.cwd),
        // @dc/audit keeps the PATH record's octal text (e.g. `0100644`); monitor.db stores the number.
        mode: row.mode === null ? undefined : `0${row.mode.toString(8)}`,
      };
    case 'network': {
      const endpoint = (address: string | null, port: number | null) => (address === null && port === null ? undefined : { address, port, family: row.addressFamily });
      return {
        timestamp, node, process, operation: str(d.operation) ?? row.direction, family: row.addressFamily,
        remote: endpoint(row.remoteAddress, row.remotePort), local: endpoint(row.localAddress, row.localPort),
      };
    }
    case 'security':
      return {
        timestamp, node, process, action: str(d.action), account: row.account, result: row.result, terminal: row.terminal, remoteAddress: row.remoteAddress,
        hostname: row.hostname, operation: row.method, command: str(d.command),
      };
    default: {
      const own: Record<string, unknown> = { ...row };
      for (const k of ROW_BASE_FIELDS) delete own[k];
      return { ...own, timestamp, node, process };
    }
  }
}
