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

/** Reads `input` to the end and writes to `out`; resolves to the exit code (0, or 1 when lines were malformed). */
export async function runDcAudit(
  input: NodeJS.ReadableStream | AsyncIterable<string | Buffer>,
  out: Writable,
  opts: DcAuditOptions,
): Promise<number> {
  const events = parseAuditStream(input);
  const counts: Record<AuditEventKind, number> = { 'process-start': 0, file: 0, network: 0, security: 0, other: 0 };
  let buffer = '';
  const write = async (text: string): Promise<void> => {
    buffer += text;
    if (buffer.length < 1 << 16) return;
    const chunk = buffer;
    buffer = '';
    if (!out.write(chunk)) await new Promise<void>((resolve) => out.once('drain', resolve));
  };
  if (!opts.summary && opts.format === 'table') await write(tableHeader());
  for await (const e of events) {
    counts[e.kind]++;
    if (opts.summary) continue;
    await write(opts.format === 'table' ? tableRow(e) : jsonLine(e, opts.raw));
  }
  if (opts.summary) {
    const summary = { events: counts, stats: events.stats, malformed: events.errors };
    if (opts.json) await write(JSON.stringify(summary) + '\n');
    else await write(summaryText(summary.events, events.stats, events.errors));
  }
  if (buffer.length > 0) out.write(buffer);
  return events.stats.malformed > 0 ? 1 : 0;
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
  errors: readonly { line: number; reason: string; text: string }[],
): string {
  let s = `lines ${stats.lines}, records ${stats.records}, events ${stats.events}, malformed ${stats.malformed}, evicted incomplete ${stats.evictedIncomplete}\n`;
  for (const [kind, n] of Object.entries(counts)) s += `${kind.padEnd(14)} ${n}\n`;
  for (const err of errors) s += `line ${err.line}: ${err.reason}: ${err.text}\n`;
  return s;
}
