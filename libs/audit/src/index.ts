// @dc/audit: Linux audit record parser, event assembler and interpreter (pure; SPEC 2.2).
export type {
  AuditRecord,
  AuditParseError,
  AuditEventKind,
  ProcessContext,
  AuditEventBase,
  ProcessStartEvent,
  FileOperation,
  FileEvent,
  SocketAddress,
  NetworkOperation,
  NetworkEvent,
  SecurityAction,
  SecurityEvent,
  OtherEvent,
  AuditEvent,
  AuditStats,
  AssemblerOptions,
  AssemblerSinks,
} from './types';
export { AuditAssembler, DEFAULT_ASSEMBLER_OPTIONS } from './assembly/assembler';
export { parseAuditStream, DEFAULT_MAX_LINE_LENGTH } from './stream/parse-stream';
export type { ParseStreamOptions, AuditEventStream } from './stream/parse-stream';
export { parseRecord, isParseError } from './records/parse-record';
export { decodeFieldValue, decodeProctitle } from './records/values';
export { interpretEvent, execveArgs } from './interpretation/interpret';
export { decodeSockaddr } from './interpretation/sockaddr';
export { syscallName } from './syscalls/syscalls';
