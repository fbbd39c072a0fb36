// Interpretation: the records of one assembled event → one typed AuditEvent (SPEC 2.1 event types).
import { posix } from 'node:path';
import type {
  AuditEvent,
  AuditRecord,
  FileOperation,
  NetworkOperation,
  ProcessContext,
  SecurityAction,
  SocketAddress,
} from '../types';
import { decodeFieldValue, decodeProctitle, isHexEncoded, hexToString, toInt } from '../records/values';
import { fieldPairs } from '../records/parse-record';
import { archInfo, syscallName } from '../syscalls/syscalls';
import { decodeSockaddr } from './sockaddr';

/** Record types that make an event a security event, and what they mean. */
const SECURITY_ACTIONS = new Map<string, SecurityAction>(Object.entries({
  USER_AUTH: 'authentication',
  GRP_AUTH: 'authentication',
  USER_ERR: 'authentication',
  ANOM_LOGIN_FAILURES: 'authentication',
  USER_ACCT: 'authorization',
  USER_LOGIN: 'login',
  LOGIN: 'login',
  ANOM_LOGIN_LOCATION: 'login',
  ANOM_LOGIN_SESSIONS: 'login',
  ANOM_LOGIN_TIME: 'login',
  ANOM_LOGIN_ACCT: 'login',
  USER_LOGOUT: 'logout',
  USER_START: 'session-start',
  USER_END: 'session-end',
  CRED_ACQ: 'credential-acquire',
  CRED_DISP: 'credential-dispose',
  CRED_REFR: 'credential-refresh',
  USER_ROLE_CHANGE: 'role-change',
  ROLE_ASSIGN: 'role-change',
  ROLE_REMOVE: 'role-change',
  ROLE_MODIFY: 'role-change',
  ADD_USER: 'account-change',
  DEL_USER: 'account-change',
  ADD_GROUP: 'account-change',
  DEL_GROUP: 'account-change',
  USER_MGMT: 'account-change',
  GRP_MGMT: 'account-change',
  USER_CHAUTHTOK: 'account-change',
  GRP_CHAUTHTOK: 'account-change',
  ACCT_LOCK: 'account-change',
  ACCT_UNLOCK: 'account-change',
  CHUSER_ID: 'privilege-change',
  CHGRP_ID: 'privilege-change',
  USER_CMD: 'command',
} satisfies Record<string, SecurityAction>));

/** System calls that change a process's credentials (privilege change when they succeed). */
const PRIVILEGE_SYSCALLS = new Set([
  'setuid', 'setreuid', 'setresuid', 'setfsuid', 'setgid', 'setregid', 'setresgid', 'setfsgid',
  'setuid32', 'setreuid32', 'setresuid32', 'setgid32', 'setregid32', 'setresgid32', 'capset',
]);

const FILE_SYSCALLS = new Map<string, FileOperation | 'open'>(Object.entries({
  open: 'open', openat: 'open', openat2: 'open', open_by_handle_at: 'open',
  creat: 'create', mkdir: 'create', mkdirat: 'create', mknod: 'create', mknodat: 'create',
  write: 'write', writev: 'write', pwrite: 'write', pwrite64: 'write', pwritev: 'write', pwritev2: 'write',
  truncate: 'write', truncate64: 'write', ftruncate: 'write', ftruncate64: 'write', fallocate: 'write',
  unlink: 'delete', unlinkat: 'delete', rmdir: 'delete',
  rename: 'rename', renameat: 'rename', renameat2: 'rename',
  chmod: 'chmod', fchmod: 'chmod', fchmodat: 'chmod', fchmodat2: 'chmod',
  chown: 'chown', fchown: 'chown', lchown: 'chown', fchownat: 'chown', chown32: 'chown', fchown32: 'chown', lchown32: 'chown',
  link: 'link', linkat: 'link', symlink: 'link', symlinkat: 'link',
} satisfies Record<string, FileOperation | 'open'>));

const NETWORK_SYSCALLS = new Map<string, NetworkOperation>(Object.entries({
  connect: 'connect', accept: 'accept', accept4: 'accept', bind: 'bind', listen: 'listen',
  sendto: 'sendto', sendmsg: 'sendto', recvfrom: 'recvfrom', recvmsg: 'recvfrom',
} satisfies Record<string, NetworkOperation>));

const O_ACCMODE = 3;
const O_CREAT = 0o100;
const O_TRUNC = 0o1000;

/** Event-level facts gathered in one pass over the records. */
interface Gathered {
  syscall: AuditRecord | undefined;
  execve: AuditRecord[] | undefined;
  paths: AuditRecord[] | undefined;
  cwd: AuditRecord | undefined;
  proctitle: AuditRecord | undefined;
  sockaddr: AuditRecord | undefined;
  security: AuditRecord | undefined;
  securityAction: SecurityAction | undefined;
}

/**
 * Interprets one assembled event. `records` must share node, timestamp and serial.
 * @param incomplete the assembler evicted the event before it completed.
 */
export function interpretEvent(records: readonly AuditRecord[], incomplete = false): AuditEvent {
  const g: Gathered = {
    syscall: undefined, execve: undefined, paths: undefined, cwd: undefined,
    proctitle: undefined, sockaddr: undefined, security: undefined, securityAction: undefined,
  };
  const recordTypes = new Array<string>(records.length);
  for (let i = 0; i < records.length; i++) {
    const r = records[i];
    const t = r.type;
    recordTypes[i] = t;
    switch (t) {
      case 'SYSCALL':
        g.syscall ??= r;
        break;
      case 'EXECVE':
        (g.execve ??= []).push(r);
        break;
      case 'PATH':
        (g.paths ??= []).push(r);
        break;
      case 'CWD':
        g.cwd ??= r;
        break;
      case 'PROCTITLE':
        g.proctitle ??= r;
        break;
      case 'SOCKADDR':
        g.sockaddr ??= r;
        break;
      default: {
        const action = SECURITY_ACTIONS.get(t);
        if (action !== undefined && g.security === undefined) {
          g.security = r;
          g.securityAction = action;
        }
      }
    }
  }
  const first = records[0];
  const process = processContext(g.syscall ?? g.security ?? first);
  const base: Base = {
    node: first.node,
    timestamp: first.timestamp,
    serial: first.serial,
    recordTypes,
    process,
    records,
    incomplete,
  };
  const syscall = process.syscall;

  if (g.security !== undefined) return securityEvent(base, g.security, g.securityAction!, process);
  if (syscall === 'execve' || syscall === 'execveat' || (syscall === undefined && g.execve !== undefined)) {
    return processStart(base, g, process);
  }
  if (syscall !== undefined) {
    const fileOp = FILE_SYSCALLS.get(syscall);
    if (fileOp !== undefined) {
      const ev = fileEvent(base, g, fileOp, g.syscall!);
      if (ev !== undefined) return ev;
    }
    const netOp = NETWORK_SYSCALLS.get(syscall);
    if (netOp !== undefined) return networkEvent(base, g, netOp, process);
    if (PRIVILEGE_SYSCALLS.has(syscall) && process.success !== false) {
      return {
        kind: 'security',
        node: base.node,
        timestamp: base.timestamp,
        serial: base.serial,
        recordTypes: base.recordTypes,
        process: base.process,
        records: base.records,
        incomplete: base.incomplete,
        action: 'privilege-change',
        account: undefined,
        result: process.success === undefined ? undefined : 'success',
        terminal: process.tty,
        remoteAddress: undefined,
        hostname: undefined,
        operation: syscall,
        command: undefined,
      };
    }
  }
  return {
    kind: 'other',
    node: base.node,
    timestamp: base.timestamp,
    serial: base.serial,
    recordTypes: base.recordTypes,
    process: base.process,
    records: base.records,
    incomplete: base.incomplete,
  };
}

/** Header shared by every event; copied field by field (no spread: measured slower) so each kind keeps one shape. */
interface Base {
  node: string | undefined;
  timestamp: number;
  serial: number;
  recordTypes: string[];
  process: ProcessContext;
  records: readonly AuditRecord[];
  incomplete: boolean;
}

/** ProcessContext with every field declared up front: one object shape for all events. */
class Process implements ProcessContext {
  pid?: number = undefined;
  ppid?: number = undefined;
  uid?: number = undefined;
  gid?: number = undefined;
  euid?: number = undefined;
  egid?: number = undefined;
  suid?: number = undefined;
  fsuid?: number = undefined;
  auid?: number = undefined;
  ses?: number = undefined;
  exe?: string = undefined;
  comm?: string = undefined;
  tty?: string = undefined;
  success?: boolean = undefined;
  exit?: number = undefined;
  syscall?: string = undefined;
  arch?: string = undefined;
  key?: string = undefined;
  subj?: string = undefined;
}

/** Some writers quote every value (`success="yes"`, laurel's test data): read them as the bare word. */
function unquote(v: string): string {
  return v.length >= 2 && v.charCodeAt(0) === 34 && v.charCodeAt(v.length - 1) === 34 ? v.slice(1, -1) : v;
}

/** Process context from a SYSCALL record, or from a user-space message's header (one pass, first key wins). */
function processContext(r: AuditRecord): ProcessContext {
  // Numbers that do not parse (e.g. already interpreted `auid=vagrant`) stay undefined; JSON omits them.
  const p = new Process();
  const kv = fieldPairs(r);
  let arch: string | undefined;
  let syscall: string | undefined;
  let tty: string | undefined;
  let terminal: string | undefined;
  for (let i = 0; i < kv.length; i += 2) {
    const v = kv[i + 1];
    switch (kv[i]) {
      case 'pid': if (p.pid === undefined) p.pid = toInt(v); break;
      case 'ppid': if (p.ppid === undefined) p.ppid = toInt(v); break;
      case 'uid': if (p.uid === undefined) p.uid = toInt(v); break;
      case 'gid': if (p.gid === undefined) p.gid = toInt(v); break;
      case 'euid': if (p.euid === undefined) p.euid = toInt(v); break;
      case 'egid': if (p.egid === undefined) p.egid = toInt(v); break;
      case 'suid': if (p.suid === undefined) p.suid = toInt(v); break;
      case 'fsuid': if (p.fsuid === undefined) p.fsuid = toInt(v); break;
      case 'auid': if (p.auid === undefined) p.auid = toInt(v); break;
      case 'ses': if (p.ses === undefined) p.ses = toInt(v); break;
      case 'exe': if (p.exe === undefined) p.exe = decodeFieldValue(v); break;
      case 'comm': if (p.comm === undefined) p.comm = decodeFieldValue(v); break;
      case 'tty': tty ??= decodeFieldValue(v); break;
      case 'terminal': terminal ??= decodeFieldValue(v); break;
      case 'success': if (p.success === undefined) p.success = unquote(v) === 'yes'; break;
      case 'exit': if (p.exit === undefined) p.exit = toInt(v); break;
      case 'arch': arch ??= unquote(v); break;
      case 'syscall': syscall ??= unquote(v); break;
      case 'key': if (p.key === undefined && v !== '(null)') p.key = decodeFieldValue(v); break;
      case 'subj': if (p.subj === undefined) p.subj = unquote(v); break;
    }
  }
  if (tty !== undefined || terminal !== undefined) p.tty = tty ?? terminal;
  if (arch !== undefined) p.arch = archInfo(arch)?.name ?? arch;
  if (syscall !== undefined) p.syscall = syscallName(arch, syscall);
  return p;
}

/** Full argv from EXECVE records, joining `aN[i]` chunks; PROCTITLE when there is no EXECVE. */
export function execveArgs(execve: readonly AuditRecord[]): { argv: string[]; argc: number | undefined } {
  const get = (key: string): string | undefined => {
    for (const r of execve) {
      const v = r.get(key);
      if (v !== undefined) return v;
    }
    return undefined;
  };
  const argc = toInt(get('argc'));
  const argv: string[] = [];
  const limit = argc ?? Number.MAX_SAFE_INTEGER;
  for (let i = 0; i < limit; i++) {
    const whole = get(`a${i}`);
    if (whole !== undefined) {
      argv.push(decodeFieldValue(whole));
      continue;
    }
    if (get(`a${i}_len`) === undefined && get(`a${i}[0]`) === undefined) break;
    const chunks: string[] = [];
    for (let j = 0; ; j++) {
      const c = get(`a${i}[${j}]`);
      if (c === undefined) break;
      chunks.push(c);
    }
    // Hex chunks may split a UTF-8 sequence: join the hex before decoding.
    if (chunks.length > 0 && chunks.every(isHexEncoded)) argv.push(hexToString(chunks.join('')));
    else argv.push(chunks.map(decodeFieldValue).join(''));
  }
  return { argv, argc };
}

function processStart(base: Base, g: Gathered, process: ProcessContext): AuditEvent {
  const proctitle = g.proctitle?.get('proctitle');
  const title = proctitle !== undefined ? decodeProctitle(proctitle) : undefined;
  let argv: string[] = [];
  let argc: number | undefined;
  if (g.execve !== undefined) ({ argv, argc } = execveArgs(g.execve));
  else if (proctitle !== undefined) argv = decodeFieldValue(proctitle).split('\0').filter((a, i, all) => a !== '' || i < all.length - 1);
  const cwdRaw = g.cwd?.get('cwd');
  const firstPath = g.paths?.[0]?.get('name');
  return {
    kind: 'process-start',
    node: base.node,
    timestamp: base.timestamp,
    serial: base.serial,
    recordTypes: base.recordTypes,
    process: base.process,
    records: base.records,
    incomplete: base.incomplete,
    exe: process.exe ?? (firstPath !== undefined ? decodeFieldValue(firstPath) : undefined),
    argv,
    argc,
    cwd: cwdRaw !== undefined ? decodeFieldValue(cwdRaw) : undefined,
    proctitle: title,
  };
}

/**
 * Absolute form of a PATH name: relative names are joined to the CWD; without a CWD record, a
 * bare file name is placed in the directory of an absolute PARENT item.
 */
function resolvePath(name: string | undefined, cwd: string | undefined, parent?: string): string | undefined {
  if (name === undefined || name === '(null)') return undefined;
  const decoded = decodeFieldValue(name);
  if (decoded.startsWith('/')) return posix.normalize(decoded);
  if (cwd !== undefined) return posix.join(cwd, decoded);
  if (parent !== undefined && parent.startsWith('/') && !decoded.includes('/')) return posix.join(parent, decoded);
  return decoded;
}

function fileEvent(base: Base, g: Gathered, op: FileOperation | 'open', syscall: AuditRecord): AuditEvent | undefined {
  const paths = g.paths ?? [];
  const cwdRaw = g.cwd?.get('cwd');
  const cwd = cwdRaw !== undefined ? decodeFieldValue(cwdRaw) : undefined;
  const parentRaw = paths.find((p) => p.get('nametype') === 'PARENT')?.get('name');
  const parentDir = parentRaw !== undefined && parentRaw !== '(null)' ? decodeFieldValue(parentRaw) : undefined;
  const resolve = (name: string | undefined): string | undefined => resolvePath(name, cwd, parentDir);
  const byType = (t: string): AuditRecord | undefined => paths.find((p) => p.get('nametype') === t);
  // The object: the CREATE/DELETE item when present, else the last non-PARENT item, else any.
  const created = byType('CREATE');
  const deleted = byType('DELETE');
  const object = created ?? deleted ?? [...paths].reverse().find((p) => p.get('nametype') !== 'PARENT') ?? paths[paths.length - 1];
  let operation: FileOperation;
  if (op === 'open') {
    const name = syscallName(syscall.get('arch'), syscall.get('syscall') ?? '');
    const flagsRaw = name === 'open' ? syscall.get('a1') : syscall.get('a2');
    const flags = flagsRaw !== undefined ? parseInt(flagsRaw, 16) : NaN;
    if (created !== undefined) operation = 'create';
    else if (!Number.isNaN(flags) && ((flags & O_ACCMODE) !== 0 || (flags & (O_TRUNC | O_CREAT)) !== 0)) operation = 'write';
    else return undefined; // opened for reading: not a file change
  } else operation = op;
  let path = resolve(object?.get('name'));
  let oldPath: string | undefined;
  if (operation === 'rename') {
    oldPath = resolve(deleted?.get('name'));
    path = resolve(created?.get('name')) ?? path;
  } else if (operation === 'link') {
    path = resolve((created ?? object)?.get('name'));
    const target = paths.find((p) => p !== created && p.get('nametype') === 'NORMAL');
    oldPath = resolve(target?.get('name'));
  } else if (operation === 'delete') {
    path = resolve((deleted ?? object)?.get('name'));
  }
  return {
    kind: 'file',
    node: base.node,
    timestamp: base.timestamp,
    serial: base.serial,
    recordTypes: base.recordTypes,
    process: base.process,
    records: base.records,
    incomplete: base.incomplete,
    operation,
    path,
    oldPath,
    inode: toInt(object?.get('inode')),
    mode: object?.get('mode'),
    cwd,
  };
}

function networkEvent(base: Base, g: Gathered, operation: NetworkOperation, process: ProcessContext): AuditEvent {
  const raw = g.sockaddr?.get('saddr');
  const bigEndian = archInfo(g.syscall?.get('arch'))?.bigEndian ?? false;
  const addr: SocketAddress | undefined = raw !== undefined ? decodeSockaddr(raw, bigEndian) : undefined;
  void process;
  const local = operation === 'bind' || operation === 'listen';
  return {
    kind: 'network',
    node: base.node,
    timestamp: base.timestamp,
    serial: base.serial,
    recordTypes: base.recordTypes,
    process: base.process,
    records: base.records,
    incomplete: base.incomplete,
    operation,
    family: addr?.family,
    remote: local ? undefined : addr,
    local: local ? addr : undefined,
  };
}

/** A user-space text field, absent when unset (`?`, `(none)`). */
function text(v: string | undefined): string | undefined {
  return v === undefined || v === '?' || v === '(none)' || v === '"?"' ? undefined : decodeFieldValue(v);
}

function securityEvent(base: Base, r: AuditRecord, action: SecurityAction, process: ProcessContext): AuditEvent {
  // One pass over the fields (first occurrence wins), instead of a lookup per field.
  let acct, id, auid, res, terminal, tty, addr, hostname, op, cmd: string | undefined;
  const kv = fieldPairs(r);
  for (let i = 0; i < kv.length; i += 2) {
    const v = kv[i + 1];
    switch (kv[i]) {
      case 'acct': acct ??= v; break;
      case 'id': id ??= v; break;
      case 'auid': auid ??= v; break;
      case 'res': res ??= v; break;
      case 'terminal': terminal ??= v; break;
      case 'tty': tty ??= v; break;
      case 'addr': addr ??= v; break;
      case 'hostname': hostname ??= v; break;
      case 'op': op ??= v; break;
      case 'cmd': cmd ??= v; break;
    }
  }
  const e = r.enriched;
  let account = text(acct);
  if (account === undefined && id !== undefined) account = e?.ID ?? id;
  if (account === undefined && r.type === 'LOGIN' && auid !== undefined) account = e?.AUID ?? auid;
  const result =
    res === undefined ? undefined : res === 'success' || res === '1' || res === 'yes' ? 'success' : 'failure';
  return {
    kind: 'security',
    node: base.node,
    timestamp: base.timestamp,
    serial: base.serial,
    recordTypes: base.recordTypes,
    process: base.process,
    records: base.records,
    incomplete: base.incomplete,
    action,
    account,
    result,
    terminal: text(terminal) ?? tty ?? process.tty,
    remoteAddress: text(addr),
    hostname: text(hostname),
    operation: text(op),
    command: text(cmd),
  };
}
