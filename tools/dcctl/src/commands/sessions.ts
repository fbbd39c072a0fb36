// dcctl sessions list / show / open / close / request: sessions across all modules (SPEC 1.5) and requests sent over them.
import { commonV1, moduleServerV1, sessionV1 } from '@dc/proto';
import { CliError, EXIT, usageError } from '../client/cli-error';
import { type Ctx, type Register } from '../context';
import { ago, enumLabel, enumWords, protoDuration, time } from '../output/output';
import { parseDuration, parseDurationSeconds, parseEnum, parseEnumList, parseIntIn, parseTarget, TARGET_HELP } from '../parse';
import { recorderText, routeText } from './endpoints';

const ACTION = (v: number) => enumLabel(commonV1.ActionStatus, 'ACTION_STATUS_', v);
const SESSION = (v: number) => enumLabel(moduleServerV1.SessionStatus, 'SESSION_STATUS_', v);

/** The SPEC 1.5 grid: Host Name, Client ID, IP Address, Action Status, Session Status, Duration, Last Message. */
export function sessionRow(s: moduleServerV1.Session, now: Date): string[] {
  return [s.sessionId, s.hostName, s.clientId, s.ipAddress || '-', ACTION(s.actionStatus), SESSION(s.sessionStatus), protoDuration(s.duration), ago(s.lastMessageTime, now), s.moduleName];
}
export const SESSION_HEADERS = ['SESSION', 'HOST NAME', 'CLIENT ID', 'IP ADDRESS', 'ACTION STATUS', 'SESSION STATUS', 'DURATION', 'LAST MESSAGE', 'MODULE'];

function printSession(ctx: Ctx, s: moduleServerV1.Session): void {
  const now = ctx.now();
  ctx.out.fields([
    ['session', s.sessionId],
    ['host name', s.hostName],
    ['client id', s.clientId],
    ['ip address', s.ipAddress || '-'],
    ['action status', `${ACTION(s.actionStatus)}${s.actionDetail ? ` (${s.actionDetail})` : ''}`],
    ['session status', SESSION(s.sessionStatus)],
    ['duration', protoDuration(s.duration)],
    ['last message', `${time(s.lastMessageTime)} (${ago(s.lastMessageTime, now)})`],
    ['module', s.moduleName],
    ['opened by', s.openedBy || '-'],
    ['route', routeText(s.route)],
    ['created / opened / closed', `${time(s.createTime)} / ${time(s.openTime)} / ${time(s.closeTime)}`],
    ['close reason', s.closeReason || '-'],
    ['requests completed / in flight', `${s.requestsCompleted} / ${s.requestsInFlight}`],
    ['idle timeout', protoDuration(s.idleTimeout)],
  ]);
}

/** Opens a session for dcctl's own use and waits until it is usable; throws a CliError otherwise. */
export async function openSessionFor(ctx: Ctx, target: string, moduleName: string, waitSeconds: number): Promise<moduleServerV1.Session> {
  const res = await ctx.conn().unary(
    moduleServerV1.SessionServiceService.openSession,
    'SESSION_WRITE',
    moduleServerV1.OpenSessionRequest.fromPartial({ target: parseTarget(target), moduleName, waitUntilOpen: true }),
    { timeoutMs: waitSeconds * 1000 },
  );
  const s = res.session;
  if (!s || s.sessionStatus !== moduleServerV1.SessionStatus.SESSION_STATUS_OPEN) {
    throw new CliError(
      `session to ${target} did not open: action status ${s ? ACTION(s.actionStatus) : '?'}${s?.actionDetail ? ` (${s.actionDetail})` : ''}`,
      EXIT.FAILED,
      `diagnose the endpoint with: dcctl test-connection ${target}`,
    );
  }
  return s;
}

export async function closeSessionQuietly(ctx: Ctx, sessionId: string, reason: string): Promise<void> {
  try {
    await ctx.conn().unary(moduleServerV1.SessionServiceService.closeSession, 'SESSION_WRITE', moduleServerV1.CloseSessionRequest.fromPartial({ sessionId, reason }));
  } catch (err) {
    ctx.out.note(`warning: could not close session ${sessionId}: ${(err as Error).message}`);
  }
}

/** One response chunk in words. */
function chunkText(r: sessionV1.SessionResponse): string {
  const p = r.payload;
  switch (p?.$case) {
    case 'pong':
      return `pong from endpoint (endpoint time ${time(p.value.endpointTime)})`;
    case 'recorderStatus':
      return `recorder ${recorderText(p.value)}${p.value.detail ? `: ${p.value.detail}` : ''}`;
    case 'recorderControl':
      return `recorder ${recorderText(p.value.status)}`;
    case 'databaseRecreation':
      return `monitor.db recreated (${p.value.removedSizeBytes} bytes removed); recorder ${recorderText(p.value.status)}`;
    case 'events':
      return [`${p.value.events.length} event(s)${p.value.truncated ? ' (truncated)' : ''}`, ...p.value.events.map((e) => `  ${JSON.stringify(sessionV1.RecorderEvent.toJSON(e))}`)].join('\n');
    case 'generic':
      return `${p.value.contentType}: ${Buffer.from(p.value.body).toString('utf8')}`;
    case 'error':
      return `error ${enumLabel(sessionV1.SessionErrorCode, 'SESSION_ERROR_CODE_', p.value.code)}: ${p.value.message}`;
    case undefined:
      return '(empty chunk)';
    default:
      return JSON.stringify(sessionV1.SessionResponse.toJSON(r));
  }
}

export const registerSessions: Register = (program, act) => {
  const sessions = program.command('sessions').description('Active endpoint sessions across all modules (SPEC 1.5): list, open, close, send requests.');

  sessions
    .command('list')
    .description('Open and pending sessions (or --status ...), newest first, with the SPEC 1.5 columns.')
    .option('--status <list>', `only these session statuses, comma-separated: ${enumWords(moduleServerV1.SessionStatus, 'SESSION_STATUS_').join(', ')} (default pending,open)`)
    .option('--all', 'every status, closed and failed ones included (kept 7 days)')
    .option('--module <name>', 'only this module\'s sessions')
    .option('--client-id <id>', 'only sessions to this endpoint')
    .action(
      act<{ status?: string; all?: boolean; module?: string; clientId?: string }>(async (ctx, o) => {
        if (o.status && o.all) throw usageError('give --status or --all, not both');
        const S = moduleServerV1.SessionStatus;
        const req = moduleServerV1.ListSessionsRequest.fromPartial({
          statuses: o.status
            ? parseEnumList(S, 'SESSION_STATUS_', '--status', o.status)
            : o.all
              ? [S.SESSION_STATUS_PENDING, S.SESSION_STATUS_OPEN, S.SESSION_STATUS_CLOSED, S.SESSION_STATUS_FAILED]
              : [S.SESSION_STATUS_PENDING, S.SESSION_STATUS_OPEN],
          moduleName: o.module ?? '',
          clientId: o.clientId ?? '',
        });
        const list: moduleServerV1.Session[] = [];
        let pageToken = '';
        do {
          const res = await ctx.conn().unary(moduleServerV1.SessionServiceService.listSessions, 'SESSION_READ', { ...req, pageSize: 1000, pageToken });
          list.push(...res.sessions);
          pageToken = res.nextPageToken;
        } while (pageToken);
        const now = ctx.now();
        ctx.out.result({ sessions: list.map((s) => moduleServerV1.Session.toJSON(s)) }, () =>
          ctx.out.table(SESSION_HEADERS, list.map((s) => sessionRow(s, now)), 'no sessions'),
        );
      }),
    );

  sessions
    .command('show <session-id>')
    .description('One session in detail.')
    .action(
      act(async (ctx, _o, [sessionId]) => {
        const res = await ctx.conn().unary(moduleServerV1.SessionServiceService.getSession, 'SESSION_READ', moduleServerV1.GetSessionRequest.fromPartial({ sessionId }));
        ctx.out.result(moduleServerV1.GetSessionResponse.toJSON(res), () => res.session && printSession(ctx, res.session));
      }),
    );

  sessions
    .command('open <endpoint>')
    .description(`Open a session to one endpoint. <endpoint> is an ${TARGET_HELP}.`)
    .option('--module <name>', 'the module the session is for (lowercase)', 'dcctl')
    .option('--idle-timeout <duration>', 'close after this long without a request, 10s to 24h (default 10m)')
    .option('--no-wait', 'return at once (status CREATING) instead of waiting until the session is usable')
    .option('--wait-timeout <duration>', 'how long to wait for the session to open', '60s')
    .action(
      act<{ module: string; idleTimeout?: string; wait: boolean; waitTimeout: string }>(async (ctx, o, [target]) => {
        const res = await ctx.conn().unary(
          moduleServerV1.SessionServiceService.openSession,
          'SESSION_WRITE',
          moduleServerV1.OpenSessionRequest.fromPartial({
            target: parseTarget(target!),
            moduleName: o.module,
            idleTimeout: o.idleTimeout ? parseDuration('--idle-timeout', o.idleTimeout) : undefined,
            waitUntilOpen: o.wait,
          }),
          { timeoutMs: o.wait ? parseDurationSeconds('--wait-timeout', o.waitTimeout) * 1000 : undefined },
        );
        const s = res.session;
        const failed = s && [moduleServerV1.SessionStatus.SESSION_STATUS_FAILED, moduleServerV1.SessionStatus.SESSION_STATUS_CLOSED].includes(s.sessionStatus);
        if (failed) ctx.exitCode = EXIT.FAILED;
        ctx.out.result(moduleServerV1.OpenSessionResponse.toJSON(res), () => {
          if (s) printSession(ctx, s);
          if (failed) ctx.out.note(`hint: the session did not open; diagnose the endpoint with: dcctl test-connection ${target}`);
          else if (s) ctx.out.line(`\nsend requests with: dcctl sessions request ${s.sessionId} --ping`);
        });
      }),
    );

  sessions
    .command('close <session-id>')
    .description('Close a session (idempotent): requests in flight are cancelled; action status CLOSED.')
    .option('--reason <text>', 'recorded as the close reason')
    .action(
      act<{ reason?: string }>(async (ctx, o, [sessionId]) => {
        const res = await ctx.conn().unary(moduleServerV1.SessionServiceService.closeSession, 'SESSION_WRITE', moduleServerV1.CloseSessionRequest.fromPartial({ sessionId, reason: o.reason ?? '' }));
        ctx.out.result(moduleServerV1.CloseSessionResponse.toJSON(res), () =>
          ctx.out.line(`session ${sessionId} ${res.session ? SESSION(res.session.sessionStatus) : 'closed'} (action status ${res.session ? ACTION(res.session.actionStatus) : '-'})`),
        );
      }),
    );

  sessions
    .command('request <session-id>')
    .description('Send one request over an open session and print the response chunks as the endpoint sends them.')
    .option('--ping', 'round trip through the session')
    .option('--recorder-status', 'the recorder\'s status')
    .option('--events <family>', `recorder history of one family: ${enumWords(commonV1.EventFamily, 'EVENT_FAMILY_').join(' | ')}`)
    .option('--since <duration>', 'with --events: from this long ago', '1h')
    .option('--filter <condition>', 'with --events: one condition of the filters.json language as JSON, sent unchanged and run on the endpoint over the events of the family, e.g. \'{"field":"exe","endsWith":"/curl"}\' or \'{"all":[{"field":"account","equals":"root"},{"field":"result","equals":"failure"}]}\'')
    .option('--limit <n>', 'with --events: at most this many events', '100')
    .option('--raw <json>', 'any dc.session.v1.SessionRequest in proto3 JSON, e.g. \'{"generic":{"operation":"x"}}\'')
    .option('--request-timeout <duration>', 'how long the endpoint may work on it (default 60s)')
    .action(
      act<{ ping?: boolean; recorderStatus?: boolean; events?: string; since: string; filter?: string; limit: string; raw?: string; requestTimeout?: string }>(async (ctx, o, [sessionId]) => {
        const chosen = [o.ping, o.recorderStatus, o.events, o.raw].filter(Boolean).length;
        if (chosen !== 1) throw usageError('choose exactly one request: --ping, --recorder-status, --events <family> or --raw <json>');
        let request: sessionV1.SessionRequest;
        if (o.raw) {
          let parsed: unknown;
          try {
            parsed = JSON.parse(o.raw);
          } catch {
            throw usageError(`--raw: not valid JSON (got ${o.raw.slice(0, 60)})`);
          }
          request = sessionV1.SessionRequest.fromJSON(parsed);
          if (!request.payload) throw usageError('--raw: the JSON names no known request (e.g. "ping", "recorderStatus", "queryEvents", "generic")');
        } else if (o.ping) {
          request = sessionV1.SessionRequest.fromPartial({ payload: { $case: 'ping', value: { payload: Buffer.from('dcctl') } } });
        } else if (o.recorderStatus) {
          request = sessionV1.SessionRequest.fromPartial({ payload: { $case: 'recorderStatus', value: {} } });
        } else {
          const now = ctx.now();
          request = sessionV1.SessionRequest.fromPartial({
            payload: {
              $case: 'queryEvents',
              value: {
                family: parseEnum(commonV1.EventFamily, 'EVENT_FAMILY_', '--events', o.events!),
                startTime: new Date(now.getTime() - parseDurationSeconds('--since', o.since) * 1000),
                endTime: now,
                filter: o.filter ?? '',
                limit: parseIntIn('--limit', o.limit, 1, 1_000_000),
              },
            },
          });
        }
        if (o.requestTimeout) request.timeout = parseDuration('--request-timeout', o.requestTimeout);
        let sessionError: sessionV1.SessionError | undefined;
        await ctx.conn().stream(
          moduleServerV1.SessionServiceService.sendSessionRequest,
          'SESSION_WRITE',
          moduleServerV1.SendSessionRequestRequest.fromPartial({ sessionId, request }),
          (msg) => {
            const r = msg.response;
            if (!r) return;
            if (r.payload?.$case === 'error') sessionError = r.payload.value;
            if (ctx.out.json) ctx.out.jsonLine(sessionV1.SessionResponse.toJSON(r));
            else ctx.out.line(`[${r.requestId} #${r.chunkIndex}${r.last ? ' last' : ''}] ${chunkText(r)}`);
          },
        );
        if (sessionError) ctx.exitCode = EXIT.FAILED;
      }),
    );
};
