// Test support: runs Debian's ausearch (the oracle, ../shared/tools/ausearch) and compares its
// interpreted output with ours, event by event. Not exported from the lib's front door.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { AuditAssembler } from '../assembly/assembler';
import { fieldPairs } from '../records/parse-record';
import { decodeFieldValue, decodeProctitle } from '../records/values';
import { decodeSockaddr } from '../interpretation/sockaddr';
import { syscallName, archInfo } from '../syscalls/syscalls';
import type { AuditEvent, AuditRecord } from '../types';

/** Workspace root → ../shared (CI clones the repo with shared/ beside it). */
export function sharedDir(workspaceRoot: string): string {
  return resolve(workspaceRoot, '..', 'shared');
}

/** One record as ausearch -i printed it: type, event key, and the text after " : ". */
export interface OracleRecord {
  readonly type: string;
  readonly key: string;
  readonly body: string;
}

/** Runs `ausearch --input FILE -i` (TZ=UTC) and resolves to its stdout. Exit 1 = "no matches". */
export function runAusearch(ausearch: string, file: string): Promise<string> {
  return new Promise((done, fail) => {
    const child = spawn(ausearch, ['--input', file, '-i'], {
      env: { ...process.env, TZ: 'UTC' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.resume();
    child.on('error', fail);
    child.on('close', (code) => {
      if (code !== 0 && code !== 1) fail(new Error(`ausearch --input ${file} -i exited with ${code}`));
      else done(Buffer.concat(out).toString('utf8'));
    });
  });
}

const HEADER = /^(?:node=(\S+) )?type=(\S+) msg=audit\(\d\d\/\d\d\/\d\d (\d\d:\d\d:\d\d\.\d\d\d):(\d+)\) : ?(.*)$/;

/** Records of ausearch -i output, each with the key (node|HH:MM:SS.mmm|serial) of its event. */
export function parseOracleOutput(text: string): OracleRecord[] {
  const records: OracleRecord[] = [];
  for (const line of text.split('\n')) {
    const m = HEADER.exec(line);
    if (m === null) continue;
    records.push({ type: m[2], key: `${m[1] ?? ''}|${m[3]}|${m[4]}`, body: m[5] });
  }
  return records;
}

/** Event key in the oracle's form: node|HH:MM:SS.mmm (UTC)|serial. */
export function eventKey(node: string | undefined, timestamp: number, serial: number): string {
  return `${node ?? ''}|${new Date(timestamp).toISOString().slice(11, 23)}|${serial}`;
}

/** Our events of a file (assembled with default options), in completion order. */
export function ourEvents(file: string): AuditEvent[] {
  const events: AuditEvent[] = [];
  const asm = new AuditAssembler({ onEvent: (e) => events.push(e) });
  for (const line of readFileSync(file, 'utf8').split('\n')) asm.push(line);
  asm.flush();
  return events;
}

/**
 * Values of `keys` in an ausearch -i body, cut at the next key of the same record (ausearch prints
 * the record's fields in their original order; values may contain spaces, so split on known keys).
 */
export function oracleValues(body: string, keys: readonly string[]): Map<string, string> {
  const found: { key: string; at: number }[] = [];
  let from = 0;
  for (const key of keys) {
    const needle = key + '=';
    let at = body.indexOf(needle, from);
    while (at > 0 && body[at - 1] !== ' ' && body[at - 1] !== "'") at = body.indexOf(needle, at + 1);
    if (at < 0) continue;
    found.push({ key, at });
    from = at + needle.length;
  }
  const values = new Map<string, string>();
  for (let i = 0; i < found.length; i++) {
    const start = found[i].at + found[i].key.length + 1;
    const end = i + 1 < found.length ? found[i + 1].at : body.length;
    let v = body.slice(start, end);
    v = v.replace(/ +$/, '');
    if (v.endsWith("'") && i === found.length - 1) v = v.slice(0, -1);
    if (!values.has(found[i].key)) values.set(found[i].key, v);
  }
  return values;
}

/** One compared field: what we interpret and what ausearch printed. */
export interface FieldComparison {
  readonly key: string;
  readonly recordType: string;
  readonly field: string;
  readonly ours: string;
  readonly theirs: string | undefined;
}

/** Our interpretation of the fields ausearch interprets, for one record (field → text as ausearch prints it). */
export function interpretedFields(r: AuditRecord): Map<string, string> {
  const out = new Map<string, string>();
  const kv = fieldPairs(r);
  for (let i = 0; i < kv.length; i += 2) {
    const k = kv[i];
    const v = kv[i + 1];
    if (out.has(k)) continue;
    switch (r.type) {
      case 'SYSCALL':
        if (k === 'syscall') out.set(k, syscallName(r.get('arch'), v));
        else if (k === 'arch') out.set(k, archInfo(v)?.name ?? v);
        else if (k === 'success') out.set(k, v);
        else if (k === 'exe' || k === 'comm') out.set(k, escapeControls(decodeFieldValue(v)));
        break;
      case 'EXECVE':
        if (k === 'argc') out.set(k, v);
        else if (/^a\d+(\[\d+\])?$/.test(k)) out.set(k, escapeControls(decodeFieldValue(v)));
        break;
      case 'PROCTITLE':
        if (k === 'proctitle') out.set(k, escapeControls(decodeProctitle(v)));
        break;
      case 'PATH':
        if (k === 'name') out.set(k, escapeControls(decodeFieldValue(v)));
        else if (k === 'nametype' || k === 'item') out.set(k, v);
        break;
      case 'CWD':
        if (k === 'cwd') out.set(k, escapeControls(decodeFieldValue(v)));
        break;
      case 'SOCKADDR':
        if (k === 'saddr') out.set(k, oracleSockaddr(v, r.enriched?.SADDR));
        break;
      default:
        // ausearch prints numeric results as yes/no.
        if (k === 'res') out.set(k, v === '1' ? 'yes' : v === '0' ? 'no' : v);
    }
  }
  return out;
}

/**
 * Our sockaddr in ausearch's printed form. ausearch decodes in host byte order (x86: little
 * endian), so this decodes the same way; the event-level decoder uses the record's arch instead.
 * For ENRICHED lines ausearch prints the SADDR text auditd stored, so that is the comparison.
 */
export function oracleSockaddr(raw: string, enrichedSaddr: string | undefined): string {
  if (enrichedSaddr !== undefined && enrichedSaddr.startsWith('{')) return enrichedSaddr;
  const a = decodeSockaddr(raw, false);
  switch (a.family) {
    case 'inet':
      return `{ saddr_fam=inet laddr=${a.address} lport=${a.port} }`;
    case 'inet6':
      return `{ saddr_fam=inet6 laddr=${a.address} lport=${a.port} }`;
    case 'unix':
      return `{ saddr_fam=local path=${a.path} }`;
    case 'netlink':
      return `{ saddr_fam=netlink nlnk-fam=16 nlnk-pid=${a.netlinkPid} }`;
    default:
      return a.family;
  }
}

/** ausearch prints control characters of decoded text as backslash + 3 octal digits (`\\012`). */
export function escapeControls(text: string): string {
  return text.replace(/[\x00-\x1f\x7f]/g, (c) => '\\' + c.charCodeAt(0).toString(8).padStart(3, '0'));
}

/** A place where our interpretation and ausearch's differ. */
export interface Disagreement {
  /** Corpus-relative file path. */
  readonly file: string;
  /** Event key node|HH:MM:SS.mmm|serial. */
  readonly key: string;
  /** `types` (record types of the event differ), `only-ours` (ausearch printed no such event) or `RECORD.field`. */
  readonly what: string;
  readonly ours: string;
  readonly theirs: string;
}

/** Result of comparing one file. */
export interface FileComparison {
  /** Events ausearch printed (distinct keys). */
  readonly events: number;
  /** Of those, events whose record types and every compared field agree. */
  readonly agreeingEvents: number;
  readonly fields: number;
  readonly agreeingFields: number;
  readonly disagreements: Disagreement[];
}

/**
 * Compares our events with ausearch -i output for one file. Events are matched by key and merged
 * per key on both sides (ausearch splits some events that we keep whole: LOGIN or user-space
 * records sharing a SYSCALL's serial, late records). Records of the same type are paired with
 * the candidate that agrees best, so printing order does not matter.
 */
export function compareWithOracle(file: string, ours: readonly AuditEvent[], oracleText: string): FileComparison {
  const theirs = new Map<string, OracleRecord[]>();
  for (const r of parseOracleOutput(oracleText)) {
    const list = theirs.get(r.key);
    if (list === undefined) theirs.set(r.key, [r]);
    else list.push(r);
  }
  const mine = new Map<string, AuditRecord[]>();
  for (const e of ours) {
    const k = eventKey(e.node, e.timestamp, e.serial);
    const list = mine.get(k);
    if (list === undefined) mine.set(k, [...e.records]);
    else list.push(...e.records);
  }
  const disagreements: Disagreement[] = [];
  let agreeingEvents = 0;
  let fields = 0;
  let agreeingFields = 0;
  for (const [key, trs] of theirs) {
    const ors = mine.get(key) ?? [];
    const theirTypes = trs.map((r) => r.type).sort().join(',');
    const ourTypes = ors.map((r) => r.type).sort().join(',');
    fields++;
    if (theirTypes !== ourTypes) {
      disagreements.push({ file, key, what: 'types', ours: ourTypes, theirs: theirTypes });
      continue;
    }
    agreeingFields++;
    let eventAgrees = true;
    const used = new Set<number>();
    for (const tr of trs) {
      let best: { index: number; diffs: Disagreement[]; compared: number } | undefined;
      for (let i = 0; i < ors.length; i++) {
        if (used.has(i) || ors[i].type !== tr.type) continue;
        const interpreted = interpretedFields(ors[i]);
        const pairs = fieldPairs(ors[i]);
        const keys: string[] = [];
        for (let j = 0; j < pairs.length; j += 2) keys.push(pairs[j]);
        const printed = oracleValues(tr.body, keys);
        const diffs: Disagreement[] = [];
        for (const [field, value] of interpreted) {
          const other = printed.get(field);
          if (other !== value) diffs.push({ file, key, what: `${tr.type}.${field}`, ours: value, theirs: other ?? '(absent)' });
        }
        if (best === undefined || diffs.length < best.diffs.length) best = { index: i, diffs, compared: interpreted.size };
        if (diffs.length === 0) break;
      }
      if (best === undefined) continue; // cannot happen: the type multisets are equal
      used.add(best.index);
      fields += best.compared;
      agreeingFields += best.compared - best.diffs.length;
      if (best.diffs.length > 0) {
        eventAgrees = false;
        disagreements.push(...best.diffs);
      }
    }
    if (eventAgrees) agreeingEvents++;
  }
  for (const [key, ors] of mine) {
    if (!theirs.has(key)) disagreements.push({ file, key, what: 'only-ours', ours: ors.map((r) => r.type).join(','), theirs: '' });
  }
  return { events: theirs.size, agreeingEvents, fields, agreeingFields, disagreements };
}
