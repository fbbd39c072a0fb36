// Boundary check of records handed to the batched writer, so a bad record is refused at add()
// with a clear message instead of failing (and losing) a whole batch at commit.
import { InvalidMonitorInput } from '../errors';
import {
  FILE_OPERATIONS,
  IMAGE_TYPES,
  NETWORK_DIRECTIONS,
  REGISTRY_OPERATIONS,
  SECURITY_TYPES,
  type MonitorRecord,
  type ProcessRef,
} from '../records';

type Obj = Record<string, unknown>;

function time(r: Obj, field: string, prefix: string): void {
  const v = r[field];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    throw new InvalidMonitorInput(prefix + field, 'must be epoch milliseconds (a non-negative integer)', v);
  }
}

function int(r: Obj, field: string, prefix: string, required = false): void {
  const v = r[field];
  if (v === undefined && !required) return;
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) {
    throw new InvalidMonitorInput(prefix + field, 'must be an integer', v);
  }
}

function num(r: Obj, field: string, prefix: string, required = false): void {
  const v = r[field];
  if (v === undefined && !required) return;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
    throw new InvalidMonitorInput(prefix + field, 'must be a non-negative finite number', v);
  }
}

function str(r: Obj, field: string, prefix: string, required = false): void {
  const v = r[field];
  if (v === undefined && !required) return;
  if (typeof v !== 'string' || (required && v.length === 0)) {
    throw new InvalidMonitorInput(prefix + field, required ? 'must be a non-empty string' : 'must be a string', v);
  }
}

function bool(r: Obj, field: string, prefix: string): void {
  const v = r[field];
  if (v !== undefined && typeof v !== 'boolean') throw new InvalidMonitorInput(prefix + field, 'must be a boolean', v);
}

function oneOf(r: Obj, field: string, allowed: readonly string[], prefix: string, required = true): void {
  const v = r[field];
  if (v === undefined && !required) return;
  if (typeof v !== 'string' || !allowed.includes(v)) {
    throw new InvalidMonitorInput(prefix + field, `must be one of ${allowed.join(', ')}`, v);
  }
}

function port(r: Obj, field: string, prefix: string): void {
  const v = r[field];
  if (v === undefined) return;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 65535) {
    throw new InvalidMonitorInput(prefix + field, 'must be a port number 0–65535', v);
  }
}

function processRef(ref: unknown, field: string, required: boolean): void {
  if (ref === undefined && !required) return;
  if (typeof ref !== 'object' || ref === null) throw new InvalidMonitorInput(field, 'must be an object with a pid', ref);
  const p = ref as ProcessRef as unknown as Obj;
  const prefix = field + '.';
  int(p, 'pid', prefix, true);
  if (p.startTime !== undefined) time(p, 'startTime', prefix);
  int(p, 'ppid', prefix);
  int(p, 'uid', prefix);
  str(p, 'exe', prefix);
  str(p, 'comm', prefix);
  str(p, 'user', prefix);
}

function common(r: Obj): void {
  time(r, 'time', '');
  int(r, 'uid', '');
  str(r, 'user', '');
  if (r.details !== undefined && (typeof r.details !== 'object' || r.details === null || Array.isArray(r.details))) {
    throw new InvalidMonitorInput('details', 'must be an object', r.details);
  }
  if (r.signals !== undefined) {
    if (!Array.isArray(r.signals) || !r.signals.every((s) => typeof s === 'string' && s.length > 0)) {
      throw new InvalidMonitorInput('signals', 'must be an array of signal names', r.signals);
    }
  }
}

/** Throws InvalidMonitorInput naming the first field that breaks a rule. */
export function validateRecord(record: MonitorRecord): void {
  if (typeof record !== 'object' || record === null) throw new InvalidMonitorInput('record', 'must be an object', record);
  const r = record as unknown as Obj;
  switch (record.kind) {
    case 'process-start':
      common(r);
      int(r, 'pid', '', true);
      oneOf(r, 'operation', ['exec', 'fork'], '', false);
      int(r, 'ppid', '');
      for (const f of ['uid', 'euid', 'auid', 'sessionId']) int(r, f, '');
      for (const f of ['exe', 'cwd', 'user', 'tty', 'comm']) str(r, f, '');
      if (record.argv !== undefined && (!Array.isArray(record.argv) || !record.argv.every((a) => typeof a === 'string'))) {
        throw new InvalidMonitorInput('argv', 'must be an array of strings', record.argv);
      }
      if (record.exeSha256 !== undefined && !/^[0-9a-f]{64}$/.test(record.exeSha256)) {
        throw new InvalidMonitorInput('exeSha256', 'must be 64 lowercase hex digits', record.exeSha256);
      }
      return;
    case 'process-exit':
      common(r);
      int(r, 'pid', '', true);
      if (r.startTime !== undefined) time(r, 'startTime', '');
      int(r, 'exitCode', '');
      return;
    case 'file':
      common(r);
      processRef(r.process, 'process', false);
      oneOf(r, 'operation', FILE_OPERATIONS, '');
      str(r, 'path', '', true);
      str(r, 'oldPath', '');
      for (const f of ['mode', 'ownerUid', 'ownerGid']) int(r, f, '');
      bool(r, 'success', '');
      return;
    case 'network':
      common(r);
      processRef(r.process, 'process', false);
      oneOf(r, 'direction', NETWORK_DIRECTIONS, '');
      str(r, 'protocol', '', true);
      for (const f of ['addressFamily', 'localAddress', 'remoteAddress']) str(r, f, '');
      port(r, 'localPort', '');
      port(r, 'remotePort', '');
      bool(r, 'success', '');
      return;
    case 'security':
      common(r);
      processRef(r.process, 'process', false);
      oneOf(r, 'type', SECURITY_TYPES, '');
      oneOf(r, 'result', ['success', 'failure'], '');
      for (const f of ['account', 'terminal', 'remoteAddress', 'hostname', 'method']) str(r, f, '');
      return;
    case 'dns':
      common(r);
      processRef(r.process, 'process', false);
      str(r, 'query', '', true);
      for (const f of ['operation', 'queryType', 'response', 'status']) str(r, f, '');
      return;
    case 'registry':
      common(r);
      processRef(r.process, 'process', false);
      oneOf(r, 'operation', REGISTRY_OPERATIONS, '');
      str(r, 'key', '', true);
      for (const f of ['valueName', 'valueData', 'oldKey']) str(r, f, '');
      return;
    case 'image':
      common(r);
      processRef(r.process, 'process', false);
      oneOf(r, 'imageType', IMAGE_TYPES, '');
      str(r, 'path', '', true);
      str(r, 'sha256', '');
      bool(r, 'signed', '');
      return;
    case 'sample':
      time(r, 'time', '');
      processRef(r.process, 'process', true);
      num(r, 'cpuPercent', '', true);
      num(r, 'rssBytes', '', true);
      for (const f of ['vmsBytes', 'threads', 'readBytes', 'writeBytes', 'openFiles']) num(r, f, '');
      return;
    default:
      throw new InvalidMonitorInput(
        'kind',
        'must be one of process-start, process-exit, file, network, security, dns, registry, image, sample',
        (record as { kind?: unknown }).kind,
      );
  }
}
