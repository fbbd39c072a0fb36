// The dc-audit command itself: stream in, events or a summary out (testable without a process).
import type { Writable } from 'node:stream';
import { parseAuditStream } from '@dc/audit';
import type { AuditEvent, AuditEventKind } from '@dc/audit';

/** What the command prints. */
export interface DcAuditOptions {
  format: 'jsonl' | 'table';
  summary: boolean;
  json: boolean;
  raw: boolean;
}

/** One input of the command: a name for reports and a way to open it. */
export interface DcAuditInput {
  readonly name: string;
  open(): NodeJS.ReadableStream | AsyncIterable<string | Buffer>;
}

/**
 * Reads each input to its end (events never span inputs) and writes to `out`; resolves to the
 * exit code: 0, or 1 when some lines were malformed.
 */
export async function runDcAudit(inputs: readonly DcAuditInput[], out: Writable, opts: DcAuditOptions): Promise<number> {
  const counts: Record<AuditEventKind, number> = { 'process-start': 0, file: 0, network: 0, security: 0, other: 0 };
  const stats = { lines: 0, records: 0, events: 0, malformed: 0, evictedIncomplete: 0, timedOut: 0 };
  const malformed: { file: string; line: number; reason: string; text: string }[] = [];
  let buffer = '';
  const write = async (text: string): Promise<void> => {
    buffer += text;
    if (buffer.length < 1 << 16) return;
    const chunk = buffer;
    buffer = '';
    if (!out.write(chunk)) await new Promise<void>((resolve) => out.once('drain', resolve));
  };
  if (!opts.summary && opts.format === 'table') await write(tableHeader());
  for (const input of inputs) {
    const events = parseAuditStream(input.open());
    for await (const e of events) {
      counts[e.kind]++;
      if (opts.summary) continue;
      await write(opts.format === 'table' ? tableRow(e) : jsonLine(e, opts.raw));
    }
    for (const k of Object.keys(stats) as (keyof typeof stats)[]) stats[k] += events.stats[k];
    for (const err of events.errors) malformed.push({ file: input.name, ...err });
  }
  if (opts.summary) {
    if (opts.json) await write(JSON.stringify({ events: counts, stats, malformed }) + '\n');
    else await write(summaryText(counts, stats, malformed));
  }
  if (buffer.length > 0) out.write(buffer);
  return stats.malformed > 0 ? 1 : 0;
}

function jsonLine(e: AuditEvent, raw: boolean): string {
  if (raw) return JSON.stringify(e) + '\n';
  const { records, ...rest } = e;
  void records;
  return JSON.stringify(rest) + '\n';
}

const COLUMNS = ['TIME', 'SERIAL', 'KIND', 'PID', 'AUID', 'UID', 'EXE', 'DETAIL'];

function tableHeader(): string {
  return COLUMNS.join('\t') + '\n';
}

function tableRow(e: AuditEvent): string {
  const p = e.process;
  return [
    new Date(e.timestamp).toISOString(),
    String(e.serial),
    e.kind,
    p.pid ?? '',
    p.auid ?? '',
    p.uid ?? '',
    p.exe ?? p.comm ?? '',
    detail(e).replace(/[\t\n]/g, ' '),
  ].join('\t') + '\n';
}

function detail(e: AuditEvent): string {
  switch (e.kind) {
    case 'process-start':
      return e.argv.join(' ');
    case 'file':
      return `${e.operation} ${e.oldPath !== undefined ? `${e.oldPath} -> ` : ''}${e.path ?? '?'}`;
    case 'network': {
      const a = e.remote ?? e.local;
      const where = a === undefined ? '' : a.address !== undefined ? `${a.address}:${a.port}` : (a.path ?? String(a.netlinkPid ?? ''));
      return `${e.operation} ${e.family ?? ''} ${where}`.trim();
    }
    case 'security':
      return [e.action, e.account ?? '', e.result ?? '', e.terminal ?? '', e.remoteAddress ?? ''].join(' ').trim();
    default:
      return `${e.process.syscall ?? ''} ${e.recordTypes.join(',')}`.trim();
  }
}

function summaryText(
  counts: Record<string, number>,
  stats: { lines: number; records: number; events: number; malformed: number; evictedIncomplete: number },
  errors: readonly { file: string; line: number; reason: string; text: string }[],
): string {
  let s = `lines ${stats.lines}, records ${stats.records}, events ${stats.events}, malformed ${stats.malformed}, evicted incomplete ${stats.evictedIncomplete}\n`;
  for (const [kind, n] of Object.entries(counts)) s += `${kind.padEnd(14)} ${n}\n`;
  for (const err of errors) s += `${err.file}:${err.line}: ${err.reason}: ${err.text}\n`;
  return s;
}
