// dcctl events list/follow and dcctl alerts list/follow/ack/clear: state changes and conditions needing attention (SPEC 3.1, 3.2).
import { moduleServerV1 } from '@dc/proto';
import { type Ctx, type Register } from '../context';
import { enumLabel, enumWords, time } from '../output/output';
import { parseDurationSeconds, parseEnumList } from '../parse';

const KIND = (v: number) => enumLabel(moduleServerV1.EventKind, 'EVENT_KIND_', v);
const ALERT_KIND = (v: number) => enumLabel(moduleServerV1.AlertKind, 'ALERT_KIND_', v);
const SEVERITY = (v: number) => enumLabel(moduleServerV1.AlertSeverity, 'ALERT_SEVERITY_', v);
const STATE = (v: number) => enumLabel(moduleServerV1.AlertState, 'ALERT_STATE_', v);

const eventRow = (e: moduleServerV1.Event) => [time(e.time), KIND(e.kind), e.hostName || e.clientId || e.zoneProxyId || '-', e.message];
const EVENT_HEADERS = ['TIME', 'KIND', 'SUBJECT', 'MESSAGE'];
const alertRow = (a: moduleServerV1.Alert) => [a.alertId, time(a.raiseTime), SEVERITY(a.severity), STATE(a.state), ALERT_KIND(a.kind), a.hostName || a.clientId || a.zoneProxyId || '-', a.message];
const ALERT_HEADERS = ['ALERT', 'RAISED', 'SEVERITY', 'STATE', 'KIND', 'SUBJECT', 'MESSAGE'];

/** Follows a stream until Ctrl-C (SIGINT) or the server ends it. */
async function follow(ctx: Ctx, run: (signal: AbortSignal) => Promise<void>): Promise<void> {
  const abort = new AbortController();
  const onSigint = () => abort.abort();
  process.once('SIGINT', onSigint);
  try {
    await run(abort.signal);
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
  if (!abort.signal.aborted) ctx.out.note('the server ended the stream');
}

export const registerEvents: Register = (program, act) => {
  const events = program.command('events').description('Events: endpoints going online/offline, sessions, handshake failures, zone proxies, alerts raised and cleared.');
  const kindsHelp = `comma-separated kinds: ${enumWords(moduleServerV1.EventKind, 'EVENT_KIND_').join(', ')}`;

  events
    .command('list')
    .description('Past events, newest first.')
    .option('--kind <list>', kindsHelp)
    .option('--client-id <id>', 'only this endpoint')
    .option('--since <duration>', 'only events from this long ago, e.g. 24h')
    .option('--limit <n>', 'at most this many', '100')
    .action(
      act<{ kind?: string; clientId?: string; since?: string; limit: string }>(async (ctx, o) => {
        const res = await ctx.conn().unary(
          moduleServerV1.EventServiceService.listEvents,
          'SESSION_READ',
          moduleServerV1.ListEventsRequest.fromPartial({
            pageSize: Math.min(1000, Number(o.limit) || 100),
            kinds: o.kind ? parseEnumList(moduleServerV1.EventKind, 'EVENT_KIND_', '--kind', o.kind) : [],
            clientId: o.clientId ?? '',
            startTime: o.since ? new Date(ctx.now().getTime() - parseDurationSeconds('--since', o.since) * 1000) : undefined,
          }),
        );
        ctx.out.result({ events: res.events.map((e) => moduleServerV1.Event.toJSON(e)), nextPageToken: res.nextPageToken }, () => ctx.out.table(EVENT_HEADERS, res.events.map(eventRow), 'no events'));
      }),
    );

  events
    .command('follow')
    .description('Print events as they happen until Ctrl-C (with --json: one JSON object per line).')
    .option('--kind <list>', kindsHelp)
    .option('--client-id <id>', 'only this endpoint')
    .option('--after-cursor <n>', 'first replay the events after this cursor')
    .action(
      act<{ kind?: string; clientId?: string; afterCursor?: string }>(async (ctx, o) => {
        if (!ctx.out.json) ctx.out.line(EVENT_HEADERS.join('  '));
        await follow(ctx, (signal) =>
          ctx.conn().stream(
            moduleServerV1.EventServiceService.watchEvents,
            'SESSION_READ',
            moduleServerV1.WatchEventsRequest.fromPartial({
              kinds: o.kind ? parseEnumList(moduleServerV1.EventKind, 'EVENT_KIND_', '--kind', o.kind) : [],
              clientId: o.clientId ?? '',
              afterCursor: o.afterCursor ? Number(o.afterCursor) : 0,
            }),
            (msg) => {
              if (!msg.event) return;
              if (ctx.out.json) ctx.out.jsonLine(moduleServerV1.Event.toJSON(msg.event));
              else ctx.out.line(eventRow(msg.event).join('  '));
            },
            { signal },
          ),
        );
      }),
    );

  const alerts = program.command('alerts').description('Alerts: endpoints offline past the policy, recorder stopped, auditd missing, zone proxy down, certificates expiring, clock skew.');

  alerts
    .command('list')
    .description('Active and acknowledged alerts (or --state ...), newest first.')
    .option('--state <list>', `comma-separated states: ${enumWords(moduleServerV1.AlertState, 'ALERT_STATE_').join(', ')}`)
    .option('--kind <list>', `comma-separated kinds: ${enumWords(moduleServerV1.AlertKind, 'ALERT_KIND_').join(', ')}`)
    .option('--client-id <id>', 'only this endpoint')
    .action(
      act<{ state?: string; kind?: string; clientId?: string }>(async (ctx, o) => {
        const res = await ctx.conn().unary(
          moduleServerV1.EventServiceService.listAlerts,
          'SESSION_READ',
          moduleServerV1.ListAlertsRequest.fromPartial({
            pageSize: 1000,
            states: o.state ? parseEnumList(moduleServerV1.AlertState, 'ALERT_STATE_', '--state', o.state) : [],
            kinds: o.kind ? parseEnumList(moduleServerV1.AlertKind, 'ALERT_KIND_', '--kind', o.kind) : [],
            clientId: o.clientId ?? '',
          }),
        );
        ctx.out.result({ alerts: res.alerts.map((a) => moduleServerV1.Alert.toJSON(a)), nextPageToken: res.nextPageToken }, () => ctx.out.table(ALERT_HEADERS, res.alerts.map(alertRow), 'no alerts'));
      }),
    );

  alerts
    .command('follow')
    .description('Print alert changes (raised, acknowledged, cleared) until Ctrl-C.')
    .option('--no-current', 'do not print the alerts already active first')
    .action(
      act<{ current: boolean }>(async (ctx, o) => {
        if (!ctx.out.json) ctx.out.line(ALERT_HEADERS.join('  '));
        await follow(ctx, (signal) =>
          ctx.conn().stream(
            moduleServerV1.EventServiceService.watchAlerts,
            'SESSION_READ',
            moduleServerV1.WatchAlertsRequest.fromPartial({ includeCurrent: o.current }),
            (msg) => {
              if (!msg.alert) return;
              if (ctx.out.json) ctx.out.jsonLine(moduleServerV1.Alert.toJSON(msg.alert));
              else ctx.out.line(alertRow(msg.alert).join('  '));
            },
            { signal },
          ),
        );
      }),
    );

  for (const [name, method, label] of [
    ['ack', moduleServerV1.EventServiceService.acknowledgeAlert, 'acknowledged'],
    ['clear', moduleServerV1.EventServiceService.clearAlert, 'cleared'],
  ] as const) {
    alerts
      .command(`${name} <alert-id>`)
      .description(name === 'ack' ? 'Acknowledge an active alert (it stays until its condition clears).' : 'Clear an alert by hand.')
      .option('--note <text>', 'free text recorded with it')
      .action(
        act<{ note?: string }>(async (ctx, o, [alertId]) => {
          const res = await ctx.conn().unary(method, 'SESSION_WRITE', { alertId: alertId!, note: o.note ?? '' });
          ctx.out.result(moduleServerV1.Alert.toJSON(res.alert ?? moduleServerV1.Alert.fromPartial({})), () => ctx.out.line(`alert ${alertId} ${label}`));
        }),
      );
  }
};
