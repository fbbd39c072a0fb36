// Answers to the broker's session requests (SPEC 1.1.3): recorder events and process history
// from monitor.db (@dc/monitor-db queries), recorder status and control, ping — as typed
// response payloads, large results in chunks, failures as a SessionError naming the field.
import type { EventFamily, EventRow, MonitorDb, ProcessHistoryEntry } from '@dc/monitor-db';
import { commonV1 as common, sessionV1 as session } from '@dc/proto';
import { compileEventFilter, EventFilterRefused } from './event-query-filter';

export type ResponsePayload = NonNullable<session.SessionResponse['payload']>;

/** Who asked: the session the request came on, the module that opened it, and the request — for the records a request leaves (Protect's access.log). */
export interface SessionRequestContext {
  readonly sessionId: string;
  /** From the Open Session action, e.g. "performance". */
  readonly moduleName: string;
  readonly requestId: string;
}

/** What the recorder provides; any handler left out answers UNIMPLEMENTED. */
export interface SessionRequestHandlers {
  /** monitor.db, opened for reading (the recorder owns writing). */
  readonly monitorDb?: () => MonitorDb;
  readonly recorderStatus?: () => common.RecorderStatus;
  readonly controlRecorder?: (command: 'start' | 'stop', reason: string) => common.RecorderStatus;
  readonly recreateDatabase?: () => session.DatabaseRecreationResult;
  readonly findFiles?: (search: session.FileSearch) => AsyncIterable<session.FileSearchChunk> | Iterable<session.FileSearchChunk>;
  readonly validatePatterns?: (v: session.PatternValidation) => session.PatternValidationResult;
  readonly retrieveKey?: (r: session.KeyRetrieval, context: SessionRequestContext) => session.RetrievedKey;
  readonly now?: () => number;
}

/** A request the endpoint refuses, with the contract's error code. */
export class SessionRequestError extends Error {
  constructor(
    readonly code: session.SessionErrorCode,
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

const FAMILY: Partial<Record<common.EventFamily, EventFamily>> = {
  [common.EventFamily.EVENT_FAMILY_PROCESS]: 'process',
  [common.EventFamily.EVENT_FAMILY_FILE]: 'file',
  [common.EventFamily.EVENT_FAMILY_NETWORK]: 'network',
  [common.EventFamily.EVENT_FAMILY_SECURITY]: 'security',
  [common.EventFamily.EVENT_FAMILY_DNS]: 'dns',
  [common.EventFamily.EVENT_FAMILY_REGISTRY]: 'registry',
  [common.EventFamily.EVENT_FAMILY_IMAGE]: 'image',
};

const unimplemented = (what: string) => new SessionRequestError(session.SessionErrorCode.SESSION_ERROR_CODE_UNIMPLEMENTED, '', `${what} is not available on this endpoint`);
const invalid = (field: string, message: string) => new SessionRequestError(session.SessionErrorCode.SESSION_ERROR_CODE_INVALID_ARGUMENT, field, message);

/** Yields the response payloads for one request, in order; an error is always the last. */
export async function* answerRequest(req: session.SessionRequest, h: SessionRequestHandlers, from: Omit<SessionRequestContext, 'requestId'>): AsyncGenerator<ResponsePayload> {
  const now = h.now ?? Date.now;
  const context: SessionRequestContext = { sessionId: from.sessionId, moduleName: from.moduleName, requestId: req.requestId };
  try {
    const p = req.payload;
    if (!p) throw invalid('payload', 'the request carries no payload');
    switch (p.$case) {
      case 'ping':
        if (p.value.payload.length > 1024) throw invalid('ping.payload', `must be at most 1 KiB (got ${p.value.payload.length} bytes)`);
        yield { $case: 'pong', value: { payload: p.value.payload, endpointTime: new Date(now()) } };
        return;
      case 'queryEvents':
        if (!h.monitorDb) throw unimplemented('monitor.db');
        yield* queryEvents(h.monitorDb(), p.value, now());
        return;
      case 'processHistory':
        if (!h.monitorDb) throw unimplemented('monitor.db');
        yield* processHistory(h.monitorDb(), p.value, now());
        return;
      case 'recorderStatus':
        if (!h.recorderStatus) throw unimplemented('recorder status');
        yield { $case: 'recorderStatus', value: h.recorderStatus() };
        return;
      case 'controlRecorder': {
        if (!h.controlRecorder) throw unimplemented('recorder control');
        const cmd = p.value.command === session.RecorderCommand.RECORDER_COMMAND_START ? 'start' : p.value.command === session.RecorderCommand.RECORDER_COMMAND_STOP ? 'stop' : undefined;
        if (!cmd) throw invalid('control_recorder.command', 'must be START or STOP');
        yield { $case: 'recorderControl', value: { status: h.controlRecorder(cmd, p.value.reason) } };
        return;
      }
      case 'recreateDatabase':
        if (!p.value.confirm) throw invalid('recreate_database.confirm', 'must be true: recreating monitor.db destroys the recorded history');
        if (!h.recreateDatabase) throw unimplemented('database recreation');
        yield { $case: 'databaseRecreation', value: h.recreateDatabase() };
        return;
      case 'findFiles':
        if (!h.findFiles) throw unimplemented('file search (Reveal)');
        for await (const chunk of h.findFiles(p.value)) yield { $case: 'files', value: chunk };
        return;
      case 'validatePatterns':
        if (!h.validatePatterns) throw unimplemented('pattern validation (Reveal)');
        yield { $case: 'patternValidation', value: h.validatePatterns(p.value) };
        return;
      case 'retrieveKey':
        if (!h.retrieveKey) throw unimplemented('key retrieval (Protect)');
        yield { $case: 'key', value: h.retrieveKey(p.value, context) };
        return;
      case 'generic':
        throw unimplemented(`operation "${p.value.operation}"`);
    }
  } catch (err) {
    yield { $case: 'error', value: toSessionError(err) };
  }
}

export function toSessionError(err: unknown): session.SessionError {
  if (err instanceof SessionRequestError) return { code: err.code, message: err.message, field: err.field };
  const e = err as { name?: string; message?: string; field?: string };
  if (e?.name === 'InvalidMonitorInput') return { code: session.SessionErrorCode.SESSION_ERROR_CODE_INVALID_ARGUMENT, message: e.message ?? 'invalid input', field: e.field ?? '' };
  return { code: session.SessionErrorCode.SESSION_ERROR_CODE_INTERNAL, message: `the endpoint failed: ${e?.message ?? String(err)}`, field: '' };
}

const MAX_EVENTS = 100_000;
const MAX_CHUNK = 5000;
const PAGE = 5000;

function* queryEvents(db: MonitorDb, q: session.EventQuery, now: number): Generator<ResponsePayload> {
  const family = FAMILY[q.family];
  if (!family) throw invalid('query_events.family', `must be one of ${Object.values(FAMILY).join(', ')}`);
  const limit = q.limit === 0 ? 1000 : q.limit;
  if (limit > MAX_EVENTS) throw invalid('query_events.limit', `must be at most ${MAX_EVENTS} (got ${limit})`);
  const chunkSize = q.chunkSize === 0 ? 500 : q.chunkSize;
  if (chunkSize > MAX_CHUNK) throw invalid('query_events.chunk_size', `must be at most ${MAX_CHUNK} (got ${chunkSize})`);
  const filter = parseFilter(q.filter);
  const from = q.startTime ? q.startTime.getTime() : 0;
  const to = q.endTime ? q.endTime.getTime() : now + 1;
  const order = q.order === session.SortOrder.SORT_ORDER_DESCENDING ? 'desc' : 'asc';
  let cursor: string | undefined;
  let count = 0;
  let truncated = false;
  let buffer: session.RecorderEvent[] = [];
  for (;;) {
    const page = db.queryEvents({ family, from, to, filter, limit: PAGE, cursor, order });
    for (const row of page.rows) {
      if (count === limit) {
        truncated = true; // a row beyond the limit matched
        break;
      }
      buffer.push(toRecorderEvent(row));
      count++;
      if (buffer.length === chunkSize) {
        yield { $case: 'events', value: { events: buffer, truncated: false } };
        buffer = [];
      }
    }
    if (truncated || !page.nextCursor) break;
    if (count === limit) {
      truncated = true; // the next page has more
      break;
    }
    cursor = page.nextCursor;
  }
  yield { $case: 'events', value: { events: buffer, truncated } };
}

/** The filter field: empty, or one condition of the filters.json language; refused before any row is read. */
function parseFilter(text: string): ((row: EventRow) => boolean) | undefined {
  try {
    return compileEventFilter(text);
  } catch (err) {
    if (err instanceof EventFilterRefused) throw invalid('query_events.filter', err.message);
    throw err;
  }
}

function processContext(row: EventRow): session.ProcessContext {
  const p = row as EventRow & { argv?: string[] | null; ppid?: number | null; exeSha256?: string | null; processStartTime?: number | null };
  return {
    pid: row.pid ?? 0,
    parentPid: p.ppid ?? 0,
    executablePath: row.exe ?? '',
    commandLine: p.argv ? p.argv.join(' ') : '',
    executableSha256: p.exeSha256 ?? '',
    userName: row.user ?? '',
    userId: row.uid === null ? '' : String(row.uid),
    startTime: p.processStartTime ? new Date(p.processStartTime) : undefined,
    processKey: row.processId === null ? '' : String(row.processId),
  };
}

const FILE_OP: Record<string, session.FileOperation> = {
  create: session.FileOperation.FILE_OPERATION_CREATE,
  mkdir: session.FileOperation.FILE_OPERATION_CREATE,
  write: session.FileOperation.FILE_OPERATION_WRITE,
  truncate: session.FileOperation.FILE_OPERATION_CONTENT_CHANGE,
  delete: session.FileOperation.FILE_OPERATION_DELETE,
  rmdir: session.FileOperation.FILE_OPERATION_DELETE,
  rename: session.FileOperation.FILE_OPERATION_RENAME,
  chmod: session.FileOperation.FILE_OPERATION_PERMISSION_CHANGE,
  chown: session.FileOperation.FILE_OPERATION_PERMISSION_CHANGE,
  setxattr: session.FileOperation.FILE_OPERATION_PERMISSION_CHANGE,
};

export function toRecorderEvent(row: EventRow): session.RecorderEvent {
  const base = { eventId: row.id, family: common.eventFamilyFromJSON(`EVENT_FAMILY_${row.family.toUpperCase()}`), time: new Date(row.time), process: processContext(row), signals: [] as string[] };
  switch (row.family) {
    case 'process':
      return { ...base, detail: { $case: 'processDetail', value: { operation: row.operation === 'exit' ? 'exit' : 'start', exitCode: row.exitCode ?? 0 } } };
    case 'file':
      return { ...base, detail: { $case: 'fileDetail', value: { operation: FILE_OP[row.operation] ?? session.FileOperation.FILE_OPERATION_UNSPECIFIED, path: row.path, newPath: row.operation === 'rename' ? row.path : '' } } };
    case 'network':
      return {
        ...base,
        detail: {
          $case: 'networkDetail',
          value: {
            direction: row.direction === 'accept' || row.direction === 'listen' ? session.NetworkDirection.NETWORK_DIRECTION_INBOUND : session.NetworkDirection.NETWORK_DIRECTION_OUTBOUND,
            protocol: row.protocol, localAddress: row.localAddress ?? '', localPort: row.localPort ?? 0, remoteAddress: row.remoteAddress ?? '', remotePort: row.remotePort ?? 0,
          },
        },
      };
    case 'security':
      return { ...base, detail: { $case: 'securityDetail', value: { kind: row.type, success: row.result === 'success', targetUser: row.account ?? '', sourceAddress: row.remoteAddress ?? '', sourceType: row.method ?? '' } } };
    case 'dns':
      return { ...base, detail: { $case: 'dnsDetail', value: { operation: row.operation, query: row.query, queryType: row.queryType ?? '', response: row.response ?? '' } } };
    case 'registry':
      return { ...base, detail: { $case: 'registryDetail', value: { operation: row.operation, keyPath: row.key, valueName: row.valueName ?? '', valueData: row.valueData ?? '' } } };
    case 'image':
      return { ...base, detail: { $case: 'imageDetail', value: { path: row.path, sha256: row.sha256 ?? '', driver: row.imageType === 'driver' } } };
  }
}

function* processHistory(db: MonitorDb, q: session.ProcessHistoryQuery, now: number): Generator<ResponsePayload> {
  if (!q.startTime) throw invalid('process_history.start_time', 'is required');
  const limit = q.limit === 0 ? 10_000 : q.limit;
  if (limit > 100_000) throw invalid('process_history.limit', `must be at most 100000 (got ${limit})`);
  const from = q.startTime.getTime();
  const to = q.endTime ? q.endTime.getTime() : now + 1;
  const nameRe = q.processNamePattern ? globToRegExp(q.processNamePattern) : undefined;
  let entries: ProcessHistoryEntry[] = db.processHistory({ from, to, limit: 10_000 });
  if (q.pids.length > 0) entries = entries.filter((e) => q.pids.includes(e.process.pid));
  if (nameRe) entries = entries.filter((e) => nameRe.test((e.process.exe ?? e.process.comm ?? '').split('/').pop() ?? ''));
  const top = q.top === 0 ? 20 : Math.min(q.top, 1000);
  entries = entries
    .map((e) => ({ e, cpu: e.samples.reduce((s, x) => s + x.cpuPercent, 0) }))
    .sort((a, b) => b.cpu - a.cpu)
    .slice(0, top)
    .map((x) => x.e);
  const samples: session.ProcessSample[] = [];
  let truncated = false;
  for (const e of entries) {
    for (const s of e.samples) {
      if (samples.length >= limit) {
        truncated = true;
        break;
      }
      samples.push({
        time: new Date(s.time), pid: e.process.pid, processName: (e.process.exe ?? e.process.comm ?? '').split('/').pop() ?? '', executablePath: e.process.exe ?? '',
        userName: e.process.user ?? '', cpuPercent: s.cpuPercent, residentMemoryBytes: s.rssBytes, readBytes: s.readBytes ?? 0, writtenBytes: s.writeBytes ?? 0, threadCount: s.threads ?? 0,
      });
    }
  }
  for (let i = 0; i < samples.length; i += 2000) {
    const last = i + 2000 >= samples.length;
    yield { $case: 'processHistory', value: { samples: samples.slice(i, i + 2000), truncated: last && truncated } };
  }
  if (samples.length === 0) yield { $case: 'processHistory', value: { samples: [], truncated: false } };
}

function globToRegExp(glob: string): RegExp {
  const re = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${re}$`);
}
