// Maps interpreted audit events (@dc/audit) to monitor.db records (@dc/monitor-db), by family.
import type { AuditEvent, FileEvent, NetworkEvent, ProcessContext, ProcessStartEvent, SecurityEvent, SocketAddress } from '@dc/audit';
import type {
  EventFamily,
  FileEventRecord,
  NetworkDirection,
  NetworkEventRecord,
  ProcessRef,
  ProcessStartRecord,
  SecurityEventRecord,
  SecurityEventType,
} from '@dc/monitor-db';

/** The family an audit event is recorded under, or undefined when the recorder does not store it. */
export function familyOf(event: AuditEvent): EventFamily | undefined {
  switch (event.kind) {
    case 'process-start':
      return 'process';
    case 'file':
      return 'file';
    case 'network':
      return 'network';
    case 'security':
      return 'security';
    default:
      return undefined;
  }
}

/** Why an event of a stored family is still not written (counted per reason). */
export type SkipReason = 'failed-exec' | 'no-path' | 'no-pid' | 'local-socket' | 'other-network-op';

const UNSET_ID = 4294967295;
const id = (n: number | undefined) => (n === undefined || n === UNSET_ID ? undefined : n);

export function processRefOf(p: ProcessContext, startTime?: number): ProcessRef | undefined {
  if (p.pid === undefined) return undefined;
  return {
    pid: p.pid,
    ...(startTime === undefined ? {} : { startTime }),
    ...(p.ppid === undefined ? {} : { ppid: p.ppid }),
    ...(p.exe === undefined ? {} : { exe: p.exe }),
    ...(p.comm === undefined ? {} : { comm: p.comm }),
    ...(id(p.uid) === undefined ? {} : { uid: p.uid }),
  };
}

function common(e: AuditEvent): Record<string, unknown> {
  const p = e.process;
  const d: Record<string, unknown> = { serial: e.serial };
  if (e.node !== undefined) d.node = e.node;
  if (p.syscall !== undefined) d.syscall = p.syscall;
  if (p.key !== undefined) d.key = p.key;
  if (id(p.auid) !== undefined) d.auid = p.auid;
  if (id(p.ses) !== undefined) d.ses = p.ses;
  if (e.incomplete) d.incomplete = true;
  return d;
}

/**
 * A failed execve (a shell trying each PATH entry) starts nothing. It always returns a negative
 * errno, so `exit` is checked too: some captures write `success="yes"` in a form read as false.
 */
export function failedExec(p: ProcessContext): boolean {
  return p.success === false && (p.exit === undefined || p.exit < 0);
}

export function toProcessStart(e: ProcessStartEvent, exeSha256: string | undefined): ProcessStartRecord | SkipReason {
  const p = e.process;
  if (p.pid === undefined) return 'no-pid';
  if (failedExec(p)) return 'failed-exec';
  const details = common(e);
  if (e.argc !== undefined && e.argc !== e.argv.length) details.argc = e.argc;
  return {
    kind: 'process-start',
    time: e.timestamp,
    pid: p.pid,
    operation: 'exec',
    ...(p.ppid === undefined ? {} : { ppid: p.ppid }),
    ...(e.exe === undefined ? {} : { exe: e.exe }),
    argv: e.argv.length ? e.argv : e.proctitle ? [e.proctitle] : [],
    ...(e.cwd === undefined ? {} : { cwd: e.cwd }),
    ...(id(p.uid) === undefined ? {} : { uid: p.uid }),
    ...(id(p.euid) === undefined ? {} : { euid: p.euid }),
    ...(id(p.auid) === undefined ? {} : { auid: p.auid }),
    ...(id(p.ses) === undefined ? {} : { sessionId: p.ses }),
    ...(p.tty === undefined || p.tty === '(none)' ? {} : { tty: p.tty }),
    ...(p.comm === undefined ? {} : { comm: p.comm }),
    ...(exeSha256 === undefined ? {} : { exeSha256 }),
    details,
  };
}

export function toFileRecord(e: FileEvent, startTime: number | undefined): FileEventRecord | SkipReason {
  if (e.path === undefined) return 'no-path';
  const mode = e.mode === undefined ? undefined : parseInt(e.mode, 8);
  const details = common(e);
  if (e.inode !== undefined) details.inode = e.inode;
  if (e.cwd !== undefined) details.cwd = e.cwd;
  const process = processRefOf(e.process, startTime);
  return {
    kind: 'file',
    time: e.timestamp,
    operation: e.operation,
    path: e.path,
    ...(e.oldPath === undefined ? {} : { oldPath: e.oldPath }),
    ...(mode === undefined || Number.isNaN(mode) ? {} : { mode }),
    ...(e.process.success === undefined ? {} : { success: e.process.success }),
    ...(process ? { process } : {}),
    ...(id(e.process.uid) === undefined ? {} : { uid: e.process.uid }),
    details,
  };
}

const DIRECTIONS: Partial<Record<NetworkEvent['operation'], NetworkDirection>> = {
  connect: 'connect',
  sendto: 'connect',
  accept: 'accept',
  recvfrom: 'accept',
  bind: 'bind',
  listen: 'listen',
};

/** SPEC 2.1 records TCP/IP connections; AF_UNIX and netlink traffic is local plumbing. */
const IP_FAMILIES = new Set(['inet', 'inet6']);

function addressOf(a: SocketAddress | undefined): { address?: string; port?: number } {
  if (!a) return {};
  return { ...(a.address === undefined ? {} : { address: a.address }), ...(a.port === undefined ? {} : { port: a.port }) };
}

export function toNetworkRecord(e: NetworkEvent, startTime: number | undefined): NetworkEventRecord | SkipReason {
  const direction = DIRECTIONS[e.operation];
  if (!direction) return 'other-network-op';
  const family = e.family ?? e.remote?.family ?? e.local?.family;
  if (family === undefined || !IP_FAMILIES.has(family)) return 'local-socket';
  const remote = addressOf(e.remote);
  const local = addressOf(e.local);
  const process = processRefOf(e.process, startTime);
  const details = common(e);
  if (e.operation !== direction) details.operation = e.operation;
  if (e.process.exit !== undefined && e.process.success === false) details.exit = e.process.exit;
  return {
    kind: 'network',
    time: e.timestamp,
    direction,
    // Audit records carry the address, not the socket type: accept/listen imply a stream socket.
    protocol: direction === 'accept' || direction === 'listen' ? 'tcp' : 'ip',
    addressFamily: family,
    ...(local.address === undefined ? {} : { localAddress: local.address }),
    ...(local.port === undefined ? {} : { localPort: local.port }),
    ...(remote.address === undefined ? {} : { remoteAddress: remote.address }),
    ...(remote.port === undefined ? {} : { remotePort: remote.port }),
    ...(e.process.success === undefined ? {} : { success: e.process.success }),
    ...(process ? { process } : {}),
    ...(id(e.process.uid) === undefined ? {} : { uid: e.process.uid }),
    details,
  };
}

const SECURITY_TYPES: Record<SecurityEvent['action'], SecurityEventType> = {
  authentication: 'authentication',
  authorization: 'authentication',
  'credential-acquire': 'authentication',
  'credential-dispose': 'authentication',
  'credential-refresh': 'authentication',
  login: 'login',
  'session-start': 'login',
  logout: 'logout',
  'session-end': 'logout',
  'privilege-change': 'privilege_change',
  'role-change': 'privilege_change',
  command: 'privilege_change',
  'account-change': 'account_change',
};

export function toSecurityRecord(e: SecurityEvent, startTime: number | undefined): SecurityEventRecord {
  const process = processRefOf(e.process, startTime);
  const details = common(e);
  details.action = e.action;
  if (e.command !== undefined) details.command = e.command;
  if (e.process.exe !== undefined) details.exe = e.process.exe;
  const result = e.result ?? (e.process.success === false ? 'failure' : 'success');
  if (e.result === undefined) details.resultInferred = true;
  return {
    kind: 'security',
    time: e.timestamp,
    type: SECURITY_TYPES[e.action] ?? 'authentication',
    result,
    ...(e.account === undefined ? {} : { account: e.account }),
    ...(e.terminal === undefined ? {} : { terminal: e.terminal }),
    ...(e.remoteAddress === undefined ? {} : { remoteAddress: e.remoteAddress }),
    ...(e.hostname === undefined ? {} : { hostname: e.hostname }),
    ...(e.operation === undefined ? {} : { method: e.operation }),
    ...(process ? { process } : {}),
    ...(id(e.process.uid) === undefined ? {} : { uid: e.process.uid }),
    details,
  };
}
