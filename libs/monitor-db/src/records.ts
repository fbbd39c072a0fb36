// What the recorder hands the batched writer: one record type per event family, plus process
// lifecycle and resource samples (SPEC 2.1). Times are epoch milliseconds.

/** The event families of SPEC 2.1. */
export type EventFamily = 'process' | 'file' | 'network' | 'security' | 'dns' | 'registry' | 'image';

export const EVENT_FAMILIES: readonly EventFamily[] = [
  'process', 'file', 'network', 'security', 'dns', 'registry', 'image',
];

export const FILE_OPERATIONS = [
  'create', 'write', 'delete', 'rename', 'chmod', 'chown', 'link', 'symlink',
  'mkdir', 'rmdir', 'truncate', 'setxattr', 'read', 'open',
] as const;
export type FileOperation = (typeof FILE_OPERATIONS)[number];

export const NETWORK_DIRECTIONS = ['connect', 'accept', 'bind', 'listen'] as const;
export type NetworkDirection = (typeof NETWORK_DIRECTIONS)[number];

export const SECURITY_TYPES = ['authentication', 'login', 'logout', 'privilege_change', 'account_change'] as const;
export type SecurityEventType = (typeof SECURITY_TYPES)[number];

export const REGISTRY_OPERATIONS = ['create_key', 'delete_key', 'rename_key', 'set_value', 'delete_value'] as const;
export type RegistryOperation = (typeof REGISTRY_OPERATIONS)[number];

export const IMAGE_TYPES = ['library', 'driver'] as const;
export type ImageType = (typeof IMAGE_TYPES)[number];

/**
 * Which process an event belongs to. With `startTime` it names one process row exactly;
 * without it, the writer picks the latest row for `pid` that started at or before the event,
 * and creates an inferred row (from the other fields here) when there is none.
 */
export interface ProcessRef {
  pid: number;
  startTime?: number;
  ppid?: number;
  exe?: string;
  comm?: string;
  uid?: number;
  user?: string;
}

/** Fields every event-family record carries. */
export interface EventRecordBase {
  time: number;
  process?: ProcessRef;
  /** The acting user at the time of the event (may differ from the process's, e.g. after setuid). */
  uid?: number;
  user?: string;
  /** Anything family-specific the columns do not cover; stored as JSON. */
  details?: Record<string, unknown>;
  /** Names of signals this event matched; stored in signal_matches (RecordSignalMatches). */
  signals?: readonly string[];
}

/** A process started (exec; or fork without exec). Upserts the process row by (pid, startTime). */
export interface ProcessStartRecord {
  kind: 'process-start';
  /** The start time; also the process row's start_time. */
  time: number;
  pid: number;
  operation?: 'exec' | 'fork';
  ppid?: number;
  exe?: string;
  argv?: readonly string[];
  cwd?: string;
  uid?: number;
  euid?: number;
  auid?: number;
  user?: string;
  sessionId?: number;
  tty?: string;
  comm?: string;
  exeSha256?: string;
  details?: Record<string, unknown>;
  signals?: readonly string[];
}

/** A process exited. Sets end_time / exit_code on its row. */
export interface ProcessExitRecord {
  kind: 'process-exit';
  time: number;
  pid: number;
  /** The row's start time when known; otherwise the latest row for pid is ended. */
  startTime?: number;
  exitCode?: number;
  details?: Record<string, unknown>;
  signals?: readonly string[];
}

export interface FileEventRecord extends EventRecordBase {
  kind: 'file';
  operation: FileOperation;
  path: string;
  /** The previous path of a rename (or the target of a link). */
  oldPath?: string;
  mode?: number;
  ownerUid?: number;
  ownerGid?: number;
  success?: boolean;
}

export interface NetworkEventRecord extends EventRecordBase {
  kind: 'network';
  direction: NetworkDirection;
  /** e.g. tcp, udp */
  protocol: string;
  /** e.g. inet, inet6, unix */
  addressFamily?: string;
  localAddress?: string;
  localPort?: number;
  remoteAddress?: string;
  remotePort?: number;
  success?: boolean;
}

export interface SecurityEventRecord extends EventRecordBase {
  kind: 'security';
  type: SecurityEventType;
  account?: string;
  result: 'success' | 'failure';
  terminal?: string;
  remoteAddress?: string;
  hostname?: string;
  /** e.g. the PAM service or sudo/su. */
  method?: string;
}

export interface DnsEventRecord extends EventRecordBase {
  kind: 'dns';
  /** e.g. query, response */
  operation?: string;
  query: string;
  queryType?: string;
  response?: string;
  status?: string;
}

export interface RegistryEventRecord extends EventRecordBase {
  kind: 'registry';
  operation: RegistryOperation;
  key: string;
  valueName?: string;
  valueData?: string;
  oldKey?: string;
}

export interface ImageLoadRecord extends EventRecordBase {
  kind: 'image';
  imageType: ImageType;
  path: string;
  sha256?: string;
  signed?: boolean;
}

/** A resource sample of one process (Performance integration). */
export interface ProcessSampleRecord {
  kind: 'sample';
  time: number;
  process: ProcessRef;
  cpuPercent: number;
  rssBytes: number;
  vmsBytes?: number;
  threads?: number;
  readBytes?: number;
  writeBytes?: number;
  openFiles?: number;
}

export type EventRecord =
  | ProcessStartRecord
  | ProcessExitRecord
  | FileEventRecord
  | NetworkEventRecord
  | SecurityEventRecord
  | DnsEventRecord
  | RegistryEventRecord
  | ImageLoadRecord;

/** Anything the batched writer accepts. */
export type MonitorRecord = EventRecord | ProcessSampleRecord;

/** A compiled signal definition (RecordSignalDefinitions, SPEC 2.6). */
export interface SignalDefinitionRecord {
  name: string;
  severity?: string;
  /** The compiled definition, stored as JSON. */
  definition: unknown;
}
