// What queries return: one typed row per family (camelCase, joined with its process), and the
// per-family column lists those rows are read through (the one place mapping row fields to SQL).
import type { EventFamily } from '../records';

/** Fields every event row has. `exe`/`comm` come from the event's process row. */
export interface EventRowBase {
  id: number;
  time: number;
  family: EventFamily;
  processId: number | null;
  pid: number | null;
  uid: number | null;
  user: string | null;
  exe: string | null;
  comm: string | null;
  details: Record<string, unknown> | null;
}

export interface ProcessEventRow extends EventRowBase {
  family: 'process';
  operation: 'exec' | 'fork' | 'exit';
  exitCode: number | null;
  argv: string[] | null;
  ppid: number | null;
  processStartTime: number | null;
  exeSha256: string | null;
}

export interface FileEventRow extends EventRowBase {
  family: 'file';
  operation: string;
  path: string;
  oldPath: string | null;
  mode: number | null;
  ownerUid: number | null;
  ownerGid: number | null;
  success: boolean | null;
}

export interface NetworkEventRow extends EventRowBase {
  family: 'network';
  direction: string;
  protocol: string;
  addressFamily: string | null;
  localAddress: string | null;
  localPort: number | null;
  remoteAddress: string | null;
  remotePort: number | null;
  success: boolean | null;
}

export interface SecurityEventRow extends EventRowBase {
  family: 'security';
  type: string;
  account: string | null;
  result: 'success' | 'failure';
  terminal: string | null;
  remoteAddress: string | null;
  hostname: string | null;
  method: string | null;
}

export interface DnsEventRow extends EventRowBase {
  family: 'dns';
  operation: string;
  query: string;
  queryType: string | null;
  response: string | null;
  status: string | null;
}

export interface RegistryEventRow extends EventRowBase {
  family: 'registry';
  operation: string;
  key: string;
  valueName: string | null;
  valueData: string | null;
  oldKey: string | null;
}

export interface ImageLoadRow extends EventRowBase {
  family: 'image';
  imageType: 'library' | 'driver';
  path: string;
  sha256: string | null;
  signed: boolean | null;
}

export interface EventRowByFamily {
  process: ProcessEventRow;
  file: FileEventRow;
  network: NetworkEventRow;
  security: SecurityEventRow;
  dns: DnsEventRow;
  registry: RegistryEventRow;
  image: ImageLoadRow;
}

export type EventRow = EventRowByFamily[EventFamily];

/** A process row. */
export interface ProcessRow {
  id: number;
  pid: number;
  ppid: number | null;
  startTime: number | null;
  endTime: number | null;
  exitCode: number | null;
  exe: string | null;
  argv: string[] | null;
  cwd: string | null;
  uid: number | null;
  euid: number | null;
  auid: number | null;
  user: string | null;
  sessionId: number | null;
  tty: string | null;
  comm: string | null;
  exeSha256: string | null;
  parentId: number | null;
  firstSeen: number;
  /** True when the row was created from an event, without a process start record. */
  inferred: boolean;
}

export interface ProcessSampleRow {
  time: number;
  cpuPercent: number;
  rssBytes: number;
  vmsBytes: number | null;
  threads: number | null;
  readBytes: number | null;
  writeBytes: number | null;
  openFiles: number | null;
}

/** How a column is read back: plain, 0/1 → boolean, or JSON text → value. */
export type ColumnKind = 'plain' | 'bool' | 'json';

export interface ColumnSpec {
  name: string;
  sql: string;
  kind: ColumnKind;
}

const c = (name: string, sql: string, kind: ColumnKind = 'plain'): ColumnSpec => ({ name, sql, kind });

const BASE: ColumnSpec[] = [
  c('id', 'e.id'), c('time', 'e.time'), c('processId', 'e.process_id'), c('pid', 'e.pid'),
  c('uid', 'coalesce(e.uid, p.uid)'), c('user', 'coalesce(e.user, p.user)'), c('exe', 'p.exe'),
  c('comm', 'p.comm'), c('details', 'e.details', 'json'),
];

/** Per family: its table and the columns of its row type. */
export const FAMILY_COLUMNS: Record<EventFamily, { table: string; columns: ColumnSpec[] }> = {
  process: {
    table: 'process_events',
    columns: [...BASE, c('operation', 'e.operation'), c('exitCode', 'e.exit_code'), c('argv', 'p.argv', 'json'),
      c('ppid', 'p.ppid'), c('processStartTime', 'p.start_time'), c('exeSha256', 'p.exe_sha256')],
  },
  file: {
    table: 'file_events',
    columns: [...BASE, c('operation', 'e.operation'), c('path', 'e.path'), c('oldPath', 'e.old_path'), c('mode', 'e.mode'),
      c('ownerUid', 'e.owner_uid'), c('ownerGid', 'e.owner_gid'), c('success', 'e.success', 'bool')],
  },
  network: {
    table: 'network_events',
    columns: [...BASE, c('direction', 'e.direction'), c('protocol', 'e.protocol'), c('addressFamily', 'e.address_family'),
      c('localAddress', 'e.local_address'), c('localPort', 'e.local_port'), c('remoteAddress', 'e.remote_address'),
      c('remotePort', 'e.remote_port'), c('success', 'e.success', 'bool')],
  },
  security: {
    table: 'security_events',
    columns: [...BASE, c('type', 'e.type'), c('account', 'e.account'), c('result', 'e.result'), c('terminal', 'e.terminal'),
      c('remoteAddress', 'e.remote_address'), c('hostname', 'e.hostname'), c('method', 'e.method')],
  },
  dns: {
    table: 'dns_events',
    columns: [...BASE, c('operation', 'e.operation'), c('query', 'e.query'), c('queryType', 'e.query_type'),
      c('response', 'e.response'), c('status', 'e.status')],
  },
  registry: {
    table: 'registry_events',
    columns: [...BASE, c('operation', 'e.operation'), c('key', 'e.key'), c('valueName', 'e.value_name'),
      c('valueData', 'e.value_data'), c('oldKey', 'e.old_key')],
  },
  image: {
    table: 'image_loads',
    columns: [...BASE, c('imageType', 'e.image_type'), c('path', 'e.path'), c('sha256', 'e.sha256'), c('signed', 'e.signed', 'bool')],
  },
};

export const PROCESS_COLUMNS: ColumnSpec[] = [
  c('id', 'id'), c('pid', 'pid'), c('ppid', 'ppid'), c('startTime', 'start_time'), c('endTime', 'end_time'),
  c('exitCode', 'exit_code'), c('exe', 'exe'), c('argv', 'argv', 'json'), c('cwd', 'cwd'), c('uid', 'uid'),
  c('euid', 'euid'), c('auid', 'auid'), c('user', 'user'), c('sessionId', 'session_id'), c('tty', 'tty'),
  c('comm', 'comm'), c('exeSha256', 'exe_sha256'), c('parentId', 'parent_id'), c('firstSeen', 'first_seen'),
  c('inferred', 'inferred', 'bool'),
];

export const SAMPLE_COLUMNS: ColumnSpec[] = [
  c('time', 'time'), c('cpuPercent', 'cpu_percent'), c('rssBytes', 'rss_bytes'), c('vmsBytes', 'vms_bytes'),
  c('threads', 'threads'), c('readBytes', 'read_bytes'), c('writeBytes', 'write_bytes'), c('openFiles', 'open_files'),
];

export function selectList(columns: readonly ColumnSpec[]): string {
  return columns.map((col) => `${col.sql} AS "${col.name}"`).join(', ');
}

/** Converts a raw row in place: booleans from 0/1, JSON columns parsed (bad JSON → null). */
export function decodeRow(row: Record<string, unknown>, columns: readonly ColumnSpec[]): void {
  for (const col of columns) {
    if (col.kind === 'plain') continue;
    const v = row[col.name];
    if (v === null || v === undefined) continue;
    if (col.kind === 'bool') row[col.name] = v === 1;
    else {
      try {
        row[col.name] = JSON.parse(v as string);
      } catch {
        row[col.name] = null;
      }
    }
  }
}
