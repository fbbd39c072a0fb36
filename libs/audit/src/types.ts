// Public types of @dc/audit: parsed records, interpreted events, parse errors and stream stats.
// Field names are stable: later changes are additive only (the endpoint recorder stores them).

/**
 * One audit record: one line of `audit.log` or one message from audispd.
 *
 * `fields` keeps every `key=value` pair of the record as written, in order of appearance:
 * double-quoted values keep their quotes (`"/bin/ls"`), hex-encoded values stay hex
 * (`2F62696E`), `(null)` and `?` stay literal. Use {@link decodeFieldValue} to get the text a
 * value stands for. User-space messages (`msg='k=v …'`) are flattened into `fields`.
 */
export interface AuditRecord {
  /** Record type name as written, e.g. `SYSCALL`, `USER_AUTH`, `UNKNOWN[1334]`. */
  readonly type: string;
  /** `node=` prefix (auditd `name_format`), or undefined when the line had none. */
  readonly node: string | undefined;
  /** Event time in milliseconds since the Unix epoch (`audit(SECONDS.MILLIS:…)`). */
  readonly timestamp: number;
  /** Event serial (`audit(…:SERIAL)`); records of one event share node, timestamp and serial. */
  readonly serial: number;
  /** Raw fields (see above). Keys are as written (`a0`, `a1[2]`, `old-auid`, `saddr`); first occurrence wins. */
  readonly fields: Readonly<Record<string, string>>;
  /** Raw value of one field (same as `fields[key]`, without building the object: the fast path). */
  get(key: string): string | undefined;
  /**
   * Interpreted fields auditd appended after the 0x1D separator (`log_format=ENRICHED`),
   * UPPERCASE keys with values unquoted (`UID: "root"`, `SYSCALL: "openat"`), or undefined.
   */
  readonly enriched: Readonly<Record<string, string>> | undefined;
  /** Words of the record that are not `k=v` (e.g. SELinux `avc:  denied  { read } for`), joined by spaces. */
  readonly text?: string;
  /** 1-based line number in the input stream (0 when parsed outside a stream). */
  readonly line: number;
}

/** Why a line could not be parsed: reported, counted, and never stops the stream. */
export interface AuditParseError {
  /** 1-based line number in the input stream. */
  readonly line: number;
  /** What rule the line broke, e.g. `missing "msg=audit("`, `timestamp "17x" is not a number`. */
  readonly reason: string;
  /** The offending line, cut to at most 200 characters. */
  readonly text: string;
}

/** Interpreted event kinds, one per assembled audit event. */
export type AuditEventKind = 'process-start' | 'file' | 'network' | 'security' | 'other';

/**
 * Process (subject) context of an event, from its SYSCALL record or, for user-space
 * messages, from the message header. A field is undefined when the records did not carry it (or
 * held no number, e.g. an already interpreted `auid=vagrant`); unset ids stay as written
 * (4294967295 or -1) so nothing is invented.
 */
export interface ProcessContext {
  pid?: number;
  ppid?: number;
  uid?: number;
  gid?: number;
  euid?: number;
  egid?: number;
  suid?: number;
  fsuid?: number;
  /** Login (audit) uid. */
  auid?: number;
  /** Audit session id (`ses`). */
  ses?: number;
  /** Executable path, hex-decoded. */
  exe?: string;
  /** Command name (`comm`, ≤ 16 chars in the kernel), hex-decoded. */
  comm?: string;
  /** Controlling terminal (`tty`, or `terminal` in user-space messages), e.g. `pts1`, `(none)`. */
  tty?: string;
  /** Whether the system call succeeded (`success=yes|no`). */
  success?: boolean;
  /** System call return value (`exit`). */
  exit?: number;
  /** System call name resolved from `syscall` and `arch` (`execve`, `openat`…). */
  syscall?: string;
  /** Architecture name (`x86_64`, `aarch64`…) or the raw hex `arch` when unknown. */
  arch?: string;
  /** Audit rule key (`key=`), absent when `(null)`. */
  key?: string;
  /** Security label of the subject (`subj=`). */
  subj?: string;
}

/** Fields every interpreted event carries. */
export interface AuditEventBase {
  readonly kind: AuditEventKind;
  /** Node name from the `node=` prefix, if any. */
  readonly node: string | undefined;
  /** Milliseconds since the Unix epoch. */
  readonly timestamp: number;
  readonly serial: number;
  /** Record types the event was assembled from, in arrival order (duplicates kept). */
  readonly recordTypes: readonly string[];
  /** Subject process context (see {@link ProcessContext}). */
  readonly process: ProcessContext;
  /** The records themselves, for callers that store or re-interpret raw data. */
  readonly records: readonly AuditRecord[];
  /** True when the open-event cap evicted the event before it completed (see `AuditStats.evictedIncomplete`). */
  readonly incomplete?: boolean;
}

/** A program started: an `execve`/`execveat` system call (successful or not). */
export interface ProcessStartEvent extends AuditEventBase {
  readonly kind: 'process-start';
  /** Executable path (SYSCALL `exe`, else the first PATH item). */
  readonly exe: string | undefined;
  /**
   * Full argument vector from EXECVE records, hex-decoded, with arguments split across records
   * (`aN_len`, `aN[i]`) joined. Falls back to the NUL-separated PROCTITLE when no EXECVE record.
   */
  readonly argv: readonly string[];
  /** `argc` as the kernel reported it (may exceed `argv.length` if records were lost). */
  readonly argc: number | undefined;
  /** Working directory (CWD record), hex-decoded. */
  readonly cwd: string | undefined;
  /** Decoded PROCTITLE (NUL separators turned into spaces), if present. */
  readonly proctitle: string | undefined;
}

/** What a file event did. */
export type FileOperation = 'create' | 'write' | 'delete' | 'rename' | 'chmod' | 'chown' | 'link';

/** A file-system change: create, open-for-write, delete, rename, chmod/chown, link. */
export interface FileEvent extends AuditEventBase {
  readonly kind: 'file';
  readonly operation: FileOperation;
  /** Absolute path of the file acted upon (the new name for rename/link), resolved against CWD
   * and the PARENT item when the record held a relative name. */
  readonly path: string | undefined;
  /** Old path of a rename (or the link target of `link`/`symlink`). */
  readonly oldPath: string | undefined;
  /** Inode of the object, when a PATH record gave it. */
  readonly inode: number | undefined;
  /** File mode from the PATH record (octal text as written, e.g. `0100644`), if any. */
  readonly mode: string | undefined;
  /** Working directory of the process (CWD record). */
  readonly cwd: string | undefined;
}

/** Socket address decoded from a SOCKADDR `saddr`. */
export interface SocketAddress {
  /** `inet`, `inet6`, `unix`, `netlink`, or `unknown-family(N)`. */
  readonly family: string;
  /** IPv4 dotted quad or IPv6 text form. */
  readonly address?: string;
  readonly port?: number;
  /** AF_UNIX path (abstract sockets start with `@`). */
  readonly path?: string;
  /** AF_NETLINK port id. */
  readonly netlinkPid?: number;
  /** The `saddr` hex as written. */
  readonly raw: string;
}

/** Which network system call an event records. */
export type NetworkOperation = 'connect' | 'accept' | 'bind' | 'listen' | 'sendto' | 'recvfrom' | 'other';

/** A network operation with its decoded address. */
export interface NetworkEvent extends AuditEventBase {
  readonly kind: 'network';
  readonly operation: NetworkOperation;
  /** Protocol family of the address (`inet`, `inet6`, `unix`, `netlink`…), if known. */
  readonly family: string | undefined;
  /** Peer address: connect/sendto target, accept peer. */
  readonly remote: SocketAddress | undefined;
  /** Local address: bind. */
  readonly local: SocketAddress | undefined;
}

/** What a security event records. */
export type SecurityAction =
  | 'authentication'
  | 'authorization'
  | 'login'
  | 'logout'
  | 'session-start'
  | 'session-end'
  | 'credential-acquire'
  | 'credential-dispose'
  | 'credential-refresh'
  | 'privilege-change'
  | 'role-change'
  | 'account-change'
  | 'command';

/** Authentication, login/logout, privilege change and account management. */
export interface SecurityEvent extends AuditEventBase {
  readonly kind: 'security';
  readonly action: SecurityAction;
  /** Account acted upon (`acct`, else `id`/`uid` resolved to a name by ENRICHED fields). */
  readonly account: string | undefined;
  /** `res=success|failed` / `res=1|0`, or undefined when absent. */
  readonly result: 'success' | 'failure' | undefined;
  /** Terminal (`terminal=`, else `tty`). */
  readonly terminal: string | undefined;
  /** Remote address (`addr=`), absent when `?`. */
  readonly remoteAddress: string | undefined;
  /** Remote host name (`hostname=`), absent when `?`. */
  readonly hostname: string | undefined;
  /** PAM operation or other detail (`op=`), e.g. `PAM:authentication`. */
  readonly operation: string | undefined;
  /** Command run (USER_CMD `cmd`, hex-decoded). */
  readonly command: string | undefined;
}

/** Any event not interpreted further; its `recordTypes` and `records` say what it was. */
export interface OtherEvent extends AuditEventBase {
  readonly kind: 'other';
}

/** The interpreted event union the recorder stores. */
export type AuditEvent = ProcessStartEvent | FileEvent | NetworkEvent | SecurityEvent | OtherEvent;

/** Counters of one parse/assembly run. */
export interface AuditStats {
  /** Lines read (blank lines included). */
  lines: number;
  /** Records parsed. */
  records: number;
  /** Events emitted. */
  events: number;
  /** Lines that were not blank and could not be parsed. */
  malformed: number;
  /** Events emitted incomplete because the open-event cap was reached. */
  evictedIncomplete: number;
  /** Events completed by `expire()` because their wall-clock timeout passed. */
  timedOut: number;
}

/** Options of the assembler and the stream parser. All optional; defaults in {@link DEFAULT_ASSEMBLER_OPTIONS}. */
export interface AssemblerOptions {
  /**
   * An open event is complete once a record of the same node with a later serial arrived and
   * stream time (record timestamps) moved this far past the event's time. Default 2000 ms,
   * the window ausearch uses.
   */
  graceMs?: number;
  /** …or once this many newer events opened after it (default 32), whichever comes first. */
  graceEvents?: number;
  /** Wall-clock time after which an open event is emitted incomplete by `expire()`. Default 5000 ms. */
  timeoutMs?: number;
  /** Cap on open events; the oldest is emitted incomplete (and counted) beyond it. Default 5000 (SPEC 2.6 PendingEventCap). */
  maxOpenEvents?: number;
  /** Wall clock in ms, injected for tests. Default `Date.now`. */
  clock?: () => number;
  /** Keep at most this many parse errors in `errors` (all are counted). Default 1000. */
  maxErrorsKept?: number;
}

/** Callbacks of a push-style {@link AuditAssembler}. */
export interface AssemblerSinks {
  /** Receives every interpreted event, synchronously, in completion order. */
  onEvent: (event: AuditEvent) => void;
  /** Receives every line that could not be parsed. */
  onError?: (error: AuditParseError) => void;
}
