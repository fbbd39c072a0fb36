// Record parser: one audit text line → AuditRecord (char-code scanning, no per-field regexes).
import type { AuditParseError, AuditRecord } from '../types';

const SPACE = 32;
const DQUOTE = 34;
const SQUOTE = 39;
const LBRACE = 123;
const RBRACE = 125;
const GS = '\x1d'; // ENRICHED separator between raw and interpreted fields

/**
 * Parsed record. Fields live in a flat [key, value, …] array (cheap to build, first key wins on
 * lookup); the `fields` object is built on first use, since most consumers only `get` a few.
 */
class Record_ implements AuditRecord {
  private fieldsObject: Record<string, string> | undefined;
  constructor(
    readonly type: string,
    readonly node: string | undefined,
    readonly timestamp: number,
    readonly serial: number,
    private readonly kv: string[],
    readonly enriched: Record<string, string> | undefined,
    readonly text: string | undefined,
    readonly line: number,
    /** @internal The record carried a `msg='…'` payload: a user-space message (a whole event by itself). */
    readonly userMessage: boolean,
  ) {}

  /** @internal The flat [key, value, …] array, for single-pass readers. */
  get pairs(): readonly string[] {
    return this.kv;
  }

  get(key: string): string | undefined {
    const kv = this.kv;
    for (let i = 0; i < kv.length; i += 2) if (kv[i] === key) return kv[i + 1];
    return undefined;
  }

  get fields(): Readonly<Record<string, string>> {
    if (this.fieldsObject === undefined) {
      const o: Record<string, string> = {};
      const kv = this.kv;
      // typeof guards keys such as "constructor" that exist on Object.prototype; first key wins.
      for (let i = 0; i < kv.length; i += 2) {
        const k = kv[i];
        if (k !== '__proto__' && typeof o[k] !== 'string') o[k] = kv[i + 1];
      }
      this.fieldsObject = o;
    }
    return this.fieldsObject;
  }

  toJSON(): object {
    return {
      type: this.type, node: this.node, timestamp: this.timestamp, serial: this.serial,
      fields: this.fields, enriched: this.enriched, text: this.text, line: this.line,
    };
  }
}

/** Reads an unsigned decimal at `i`; returns -1 when there is no digit there. Sets `scanEnd`. */
let scanEnd = 0;
/** Set by scanFields when it flattened a `msg='…'` payload (the record came from user space). */
let sawPayload = false;
function readDigits(s: string, i: number, end: number): number {
  let n = 0;
  const start = i;
  while (i < end) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) break;
    n = n * 10 + c;
    i++;
  }
  scanEnd = i;
  return i === start ? -1 : n;
}

/**
 * Record types and node names repeat on every record: reuse one string per (length, first, last
 * char) slot when the text matches. (Field names are sliced: measured faster than this lookup.)
 */
const KEY_CACHE: string[] = new Array<string>(4096).fill('');
function internKey(s: string, start: number, end: number): string {
  const len = end - start;
  const slot = ((len * 31 + s.charCodeAt(start)) * 31 + s.charCodeAt(end - 1)) & 4095;
  const cached = KEY_CACHE[slot];
  if (cached.length === len && s.startsWith(cached, start)) return cached;
  const key = s.slice(start, end);
  if (len <= 40) KEY_CACHE[slot] = key;
  return key;
}

/**
 * Scans `k=v` pairs of s[i, end) into SCRATCH from `scratchLength` on. Words without
 * `=` are collected into the returned text. `msg='…'` payloads are flattened when `flatten`.
 */
function scanFields(
  s: string,
  i: number,
  end: number,
  flatten: boolean,
  stripQuotes: boolean,
  text: string[] | undefined,
): string[] | undefined {
  // Native indexOf finds each separator: far faster than a JS loop over every character.
  while (i < end) {
    if (s.charCodeAt(i) === SPACE) {
      i++;
      continue;
    }
    let sp = s.indexOf(' ', i);
    if (sp < 0 || sp > end) sp = end;
    const eq = s.indexOf('=', i);
    if (eq < 0 || eq >= sp) {
      (text ??= []).push(s.slice(i, sp));
      i = sp;
      continue;
    }
    const key = s.slice(i, eq);
    i = eq + 1;
    let value: string;
    const c = i < end ? s.charCodeAt(i) : -1;
    if (c === DQUOTE) {
      let j = s.indexOf('"', i + 1);
      j = j < 0 || j >= end ? end : j + 1;
      value = stripQuotes ? s.slice(i + 1, j > i + 1 && s.charCodeAt(j - 1) === DQUOTE ? j - 1 : j) : s.slice(i, j);
      i = j;
    } else if (c === SQUOTE && flatten) {
      // The payload ends at the last quote: values inside may hold quotes (acct="f('x')").
      let j = s.lastIndexOf("'", end - 1);
      if (j <= i) j = end;
      text = scanFields(s, i + 1, j, false, false, text);
      sawPayload = true;
      i = j + 1;
      continue;
    } else if (c === LBRACE) {
      // Interpreted sockaddr (ENRICHED `SADDR={ fam=inet laddr=… }`): one value up to the brace.
      let j = i + 1;
      for (let depth = 1; j < end && depth > 0; j++) {
        const d = s.charCodeAt(j);
        if (d === LBRACE) depth++;
        else if (d === RBRACE) depth--;
      }
      value = s.slice(i, j);
      i = j;
    } else {
      value = s.slice(i, sp);
      i = sp;
    }
    SCRATCH[scratchLength++] = key;
    SCRATCH[scratchLength++] = value;
  }
  return text;
}

const SCRATCH: string[] = [];
let scratchLength = 0;

/**
 * Parses one line. Returns the record, or the reason it is not a record (a string).
 * @internal Used by the assembler's hot path; the public form is {@link parseRecord}.
 */
export function parseRecordOrReason(line: string, lineNumber: number): AuditRecord | string {
  let end = line.length;
  while (end > 0) {
    const c = line.charCodeAt(end - 1);
    if (c !== 10 && c !== 13) break;
    end--;
  }
  let i = 0;
  // Leading blanks: records quoted in indented text (e.g. YAML test data), as ausearch accepts.
  while (i < end && (line.charCodeAt(i) === SPACE || line.charCodeAt(i) === 9 /* tab */)) i++;
  let node: string | undefined;
  if (line.startsWith('node=', i)) {
    const sp = line.indexOf(' ', i + 5);
    if (sp < 0 || sp >= end) return 'line has "node=" but nothing after it';
    node = internKey(line, i + 5, sp);
    i = sp + 1;
  }
  if (!line.startsWith('type=', i)) return 'missing "type=" at the start of the record';
  i += 5;
  const typeEnd = line.indexOf(' ', i);
  if (typeEnd < 0 || typeEnd >= end || typeEnd === i) return 'missing "msg=audit(" after the record type';
  const type = internKey(line, i, typeEnd);
  i = typeEnd + 1;
  while (i < end && line.charCodeAt(i) === SPACE) i++;
  if (!line.startsWith('msg=audit(', i)) return 'missing "msg=audit(" after the record type';
  i += 10;
  const seconds = readDigits(line, i, end);
  if (seconds < 0 || line.charCodeAt(scanEnd) !== 46 /* . */) return 'audit(SECONDS.MILLIS:SERIAL): seconds are not a number';
  i = scanEnd + 1;
  const millisStart = i;
  let millis = readDigits(line, i, end);
  if (millis < 0 || line.charCodeAt(scanEnd) !== 58 /* : */) return 'audit(SECONDS.MILLIS:SERIAL): milliseconds are not a number';
  const digits = scanEnd - millisStart;
  if (digits !== 3) millis = digits < 3 ? millis * 10 ** (3 - digits) : Math.floor(millis / 10 ** (digits - 3));
  i = scanEnd + 1;
  const serial = readDigits(line, i, end);
  if (serial < 0 || line.charCodeAt(scanEnd) !== 41 /* ) */) return 'audit(SECONDS.MILLIS:SERIAL): serial is not a number';
  i = scanEnd + 1;
  if (line.charCodeAt(i) === 58 /* : */) i++;
  if (!Number.isSafeInteger(seconds * 1000) || !Number.isSafeInteger(serial)) return 'audit(SECONDS.MILLIS:SERIAL): number out of range';

  const gs = line.indexOf(GS, i);
  const bodyEnd = gs >= 0 && gs < end ? gs : end;
  // Fill a reused scratch array by index (never shrunk, so never regrown), then copy once.
  scratchLength = 0;
  sawPayload = false;
  const text = scanFields(line, i, bodyEnd, true, false, undefined);
  const userMessage = sawPayload;
  const kv = SCRATCH.slice(0, scratchLength);
  let enriched: Record<string, string> | undefined;
  if (bodyEnd < end) {
    const from = scratchLength;
    scanFields(line, bodyEnd + 1, end, false, true, undefined);
    enriched = {};
    for (let k = from; k < scratchLength; k += 2) {
      const key = SCRATCH[k];
      if (key !== '__proto__' && typeof enriched[key] !== 'string') enriched[key] = SCRATCH[k + 1];
    }
  }
  // A pathological line must not pin a huge scratch array (and its strings) forever.
  if (scratchLength > 4096) SCRATCH.length = 0;
  return new Record_(type, node, seconds * 1000 + millis, serial, kv, enriched, text?.join(' '), lineNumber, userMessage);
}

/** Parses one audit line (trailing CR/LF ignored). Returns the record or a parse error. */
export function parseRecord(line: string, lineNumber = 0): AuditRecord | AuditParseError {
  const r = parseRecordOrReason(line, lineNumber);
  return typeof r === 'string' ? parseError(line, lineNumber, r) : r;
}

/** True when `x` is a parse error rather than a record. */
export function isParseError(x: AuditRecord | AuditParseError): x is AuditParseError {
  return (x as AuditParseError).reason !== undefined;
}

/** @internal */
export function parseError(line: string, lineNumber: number, reason: string): AuditParseError {
  return { line: lineNumber, reason, text: line.length > 200 ? line.slice(0, 200) : line };
}

/** Flat [key, value, …] pairs of a record (built from `fields` for records not made here). */
export function fieldPairs(r: AuditRecord): readonly string[] {
  if (r instanceof Record_) return r.pairs;
  return Object.entries(r.fields).flat();
}

/** True for user-space messages (records with a `msg='…'` payload): they are whole events. */
export function isUserMessage(r: AuditRecord): boolean {
  return r instanceof Record_ && r.userMessage;
}
