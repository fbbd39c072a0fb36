// Turns validated records into rows inside the caller's transaction: resolves each event's
// process row (upserting it by pid + start time) and inserts the event.
import type { Statements } from '../connection';
import type { EventFamily, MonitorRecord, ProcessRef, ProcessStartRecord } from '../records';

type Row = { id: number; end_time: number | null };

function json(v: unknown): string | null {
  return v === undefined ? null : JSON.stringify(v);
}

function bit(v: boolean | undefined): number | null {
  return v === undefined ? null : v ? 1 : 0;
}

/**
 * Process rows resolved during one batch, by pid, so a busy process costs one lookup per batch
 * instead of one per event. An entry is only kept when no row of that pid starts later, and is
 * dropped when a start or exit record of that pid is written; the cache lives for one batch.
 */
export class ProcessCache {
  private readonly entries = new Map<number, { id: number; from: number; until: number }>();

  get(pid: number, time: number): number | undefined {
    const e = this.entries.get(pid);
    return e && time >= e.from && time <= e.until ? e.id : undefined;
  }

  set(pid: number, id: number, from: number, until: number): void {
    this.entries.set(pid, { id, from, until });
  }

  forget(pid: number): void {
    this.entries.delete(pid);
  }
}

type AtRow = { id: number; start_time: number; end_time: number | null };

/**
 * The process row an event at `time` belongs to: the exact (pid, startTime) row; else the
 * latest row of pid started at or before `time` and not ended before it; else the open
 * inferred row of pid; else a new inferred row built from the reference.
 */
export function resolveProcess(s: Statements, ref: ProcessRef, time: number, cache?: ProcessCache): number {
  if (ref.startTime !== undefined) {
    const exact = s.findProcessExact.get(ref.pid, ref.startTime) as Row | undefined;
    if (exact) return exact.id;
    return insertInferred(s, ref, ref.startTime, time);
  }
  const cached = cache?.get(ref.pid, time);
  if (cached !== undefined) return cached;
  const at = s.findProcessAt.get(ref.pid, time) as AtRow | undefined;
  const cacheable = cache !== undefined && s.hasLaterStart.get(ref.pid, time) === undefined;
  if (at && (at.end_time === null || at.end_time >= time)) {
    if (cacheable) cache.set(ref.pid, at.id, at.start_time, at.end_time ?? Infinity);
    return at.id;
  }
  const inferred = s.findInferred.get(ref.pid) as { id: number } | undefined;
  const id = inferred ? inferred.id : insertInferred(s, ref, null, time);
  // Known rows of this pid ended before `time`; later events of the batch belong here too.
  if (cacheable) cache.set(ref.pid, id, time, Infinity);
  return id;
}

function insertInferred(s: Statements, ref: ProcessRef, startTime: number | null, time: number): number {
  const row = s.insertInferred.get({
    pid: ref.pid,
    ppid: ref.ppid ?? null,
    start_time: startTime,
    exe: ref.exe ?? null,
    comm: ref.comm ?? null,
    uid: ref.uid ?? null,
    user: ref.user ?? null,
    first_seen: time,
  }) as { id: number };
  return row.id;
}

/** The parent's row at the child's start, without inventing one. */
function findParent(s: Statements, ppid: number | undefined, time: number): number | null {
  if (ppid === undefined) return null;
  const at = s.findProcessAt.get(ppid, time) as Row | undefined;
  if (at && (at.end_time === null || at.end_time >= time)) return at.id;
  const inferred = s.findInferred.get(ppid) as { id: number } | undefined;
  return inferred?.id ?? null;
}

function startProcess(s: Statements, r: ProcessStartRecord): number {
  const row = {
    pid: r.pid,
    ppid: r.ppid ?? null,
    start_time: r.time,
    exe: r.exe ?? null,
    argv: json(r.argv),
    cwd: r.cwd ?? null,
    uid: r.uid ?? null,
    euid: r.euid ?? null,
    auid: r.auid ?? null,
    user: r.user ?? null,
    session_id: r.sessionId ?? null,
    tty: r.tty ?? null,
    comm: r.comm ?? null,
    exe_sha256: r.exeSha256 ?? null,
    parent_id: findParent(s, r.ppid, r.time),
    first_seen: r.time,
  };
  // Events of this process that arrived before its start record created an inferred row; adopt it.
  const exact = s.findProcessExact.get(r.pid, r.time) as Row | undefined;
  if (!exact) {
    const inferred = s.findInferred.get(r.pid) as { id: number; first_seen: number } | undefined;
    if (inferred && inferred.first_seen >= r.time) {
      s.adoptInferred.run({ ...row, id: inferred.id });
      return inferred.id;
    }
  }
  return (s.upsertProcess.get(row) as { id: number }).id;
}

/** What one written record produced, for signal matches and counters. */
export interface Written {
  family: EventFamily | null;
  eventId: number | null;
  processId: number | null;
}

/** Writes one record; must run inside a transaction. */
export function writeRecord(s: Statements, r: MonitorRecord, cache?: ProcessCache): Written {
  switch (r.kind) {
    case 'process-start': {
      cache?.forget(r.pid);
      const processId = startProcess(s, r);
      const info = s.insertProcessEvent.run({
        time: r.time, process_id: processId, pid: r.pid, uid: r.uid ?? null, user: r.user ?? null,
        details: json(r.details), operation: r.operation ?? 'exec', exit_code: null,
      });
      return { family: 'process', eventId: Number(info.lastInsertRowid), processId };
    }
    case 'process-exit': {
      cache?.forget(r.pid);
      const processId = resolveProcess(s, { pid: r.pid, startTime: r.startTime }, r.time);
      s.endProcess.run(r.time, r.exitCode ?? null, processId);
      const info = s.insertProcessEvent.run({
        time: r.time, process_id: processId, pid: r.pid, uid: null, user: null,
        details: json(r.details), operation: 'exit', exit_code: r.exitCode ?? null,
      });
      return { family: 'process', eventId: Number(info.lastInsertRowid), processId };
    }
    case 'sample': {
      const processId = resolveProcess(s, r.process, r.time, cache);
      s.insertSample.run({
        time: r.time, process_id: processId, pid: r.process.pid, cpu_percent: r.cpuPercent, rss_bytes: r.rssBytes,
        vms_bytes: r.vmsBytes ?? null, threads: r.threads ?? null, read_bytes: r.readBytes ?? null,
        write_bytes: r.writeBytes ?? null, open_files: r.openFiles ?? null,
      });
      return { family: null, eventId: null, processId };
    }
    default:
      break;
  }
  const processId = r.process ? resolveProcess(s, r.process, r.time, cache) : null;
  const pid = r.process?.pid ?? null;
  const uid = r.uid ?? null;
  const user = r.user ?? null;
  const details = json(r.details);
  // Parameter objects are written out as literals: an object built with spread binds about
  // 40% slower in better-sqlite3 (measured by bench/writer-bench.ts), and this is the hot path.
  let id: number | bigint;
  switch (r.kind) {
    case 'file':
      id = s.insertFile.run({
        time: r.time, process_id: processId, pid, uid, user, details,
        operation: r.operation, path: r.path, old_path: r.oldPath ?? null, mode: r.mode ?? null,
        owner_uid: r.ownerUid ?? null, owner_gid: r.ownerGid ?? null, success: bit(r.success),
      }).lastInsertRowid;
      break;
    case 'network':
      id = s.insertNetwork.run({
        time: r.time, process_id: processId, pid, uid, user, details,
        direction: r.direction, protocol: r.protocol, address_family: r.addressFamily ?? null,
        local_address: r.localAddress ?? null, local_port: r.localPort ?? null,
        remote_address: r.remoteAddress ?? null, remote_port: r.remotePort ?? null, success: bit(r.success),
      }).lastInsertRowid;
      break;
    case 'security':
      id = s.insertSecurity.run({
        time: r.time, process_id: processId, pid, uid, user, details,
        type: r.type, account: r.account ?? null, result: r.result, terminal: r.terminal ?? null,
        remote_address: r.remoteAddress ?? null, hostname: r.hostname ?? null, method: r.method ?? null,
      }).lastInsertRowid;
      break;
    case 'dns':
      id = s.insertDns.run({
        time: r.time, process_id: processId, pid, uid, user, details,
        operation: r.operation ?? 'query', query: r.query, query_type: r.queryType ?? null,
        response: r.response ?? null, status: r.status ?? null,
      }).lastInsertRowid;
      break;
    case 'registry':
      id = s.insertRegistry.run({
        time: r.time, process_id: processId, pid, uid, user, details,
        operation: r.operation, key: r.key, value_name: r.valueName ?? null,
        value_data: r.valueData ?? null, old_key: r.oldKey ?? null,
      }).lastInsertRowid;
      break;
    case 'image':
      id = s.insertImage.run({
        time: r.time, process_id: processId, pid, uid, user, details,
        image_type: r.imageType, path: r.path, sha256: r.sha256 ?? null, signed: bit(r.signed),
      }).lastInsertRowid;
      break;
  }
  return { family: r.kind === 'image' ? 'image' : r.kind, eventId: Number(id), processId };
}
