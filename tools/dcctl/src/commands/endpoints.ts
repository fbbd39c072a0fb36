// dcctl endpoints list / show: endpoints with online/offline, last seen, route and recorder status.
import { commonV1, moduleServerV1 } from '@dc/proto';
import { type Ctx, type Register } from '../context';
import { ago, bytes, enumLabel, enumWords, expiry, protoDuration, time } from '../output/output';
import { parseEnum, parseEnumList, parseTarget, TARGET_HELP } from '../parse';

export const endpointStatus = (v: number) => enumLabel(moduleServerV1.EndpointStatus, 'ENDPOINT_STATUS_', v);

export function routeText(r: moduleServerV1.Route | undefined): string {
  if (!r || r.kind === moduleServerV1.RouteKind.ROUTE_KIND_UNSPECIFIED) return '-';
  const via = r.kind === moduleServerV1.RouteKind.ROUTE_KIND_ZONE_PROXY ? `zone proxy ${r.zoneProxyName || r.zoneProxyId}` : 'direct';
  return r.remoteAddress ? `${via} from ${r.remoteAddress}` : via;
}

export function disconnectText(d: moduleServerV1.DisconnectInfo | undefined): string {
  if (!d) return '-';
  const reason = enumLabel(commonV1.DisconnectReason, 'DISCONNECT_REASON_', d.reason);
  const cause = d.tlsCause ? ` (${enumLabel(commonV1.TlsFailureCause, 'TLS_FAILURE_CAUSE_', d.tlsCause)})` : '';
  return `${reason}${cause} at ${time(d.time)}${d.detail ? `: ${d.detail}` : ''}`;
}

export function recorderText(s: commonV1.RecorderStatus | undefined): string {
  if (!s) return '-';
  const state = enumLabel(commonV1.RecorderState, 'RECORDER_STATE_', s.state);
  const reason = s.state === commonV1.RecorderState.RECORDER_STATE_STOPPED ? ` (${enumLabel(commonV1.RecorderStopReason, 'RECORDER_STOP_REASON_', s.stopReason)})` : '';
  return `${state}${reason}`;
}

function printEndpoint(ctx: Ctx, e: moduleServerV1.Endpoint): void {
  const now = ctx.now();
  ctx.out.fields([
    ['client id', e.clientId],
    ['host name', e.hostName],
    ['fqdn', e.fqdn || '-'],
    ['ip addresses', e.ipAddresses.join(', ') || '-'],
    ['os', `${enumLabel(commonV1.OperatingSystem, 'OPERATING_SYSTEM_', e.os)} ${e.osVersion} ${e.architecture}`.trim()],
    ['status', `${endpointStatus(e.status)} since ${time(e.statusSinceTime)}`],
    ['last seen', `${time(e.lastSeenTime)} (${ago(e.lastSeenTime, now)})`],
    ['first connected', time(e.firstConnectedTime)],
    ['missed heartbeats', String(e.missedHeartbeats)],
    ['route', routeText(e.route)],
    ['last disconnect', disconnectText(e.lastDisconnect)],
    ['clock skew', protoDuration(e.clockSkew)],
    ['in action group', e.inActionGroup ? 'yes' : 'NO (gets no packages and no sessions)'],
    ['action lock', e.actionLock ? 'on' : 'off'],
    ['tools / recorder version', `${e.toolsVersion || '-'} / ${e.recorderVersion || '-'}`],
    ['recorder', `${recorderText(e.recorderStatus)}${e.recorderStatus ? `, monitor.db ${bytes(e.recorderStatus.databaseSizeBytes)}` : ''}`],
    ['certificate', e.certificateSerial ? `${e.certificateSerial}, expires ${expiry(e.certificateNotAfter, now)}` : '-'],
    ['configuration revision', String(e.configurationRevision)],
    ['open sessions', String(e.openSessions)],
    ['tags', e.tags.join(', ') || '-'],
  ]);
  if (e.deployments.length > 0) {
    ctx.out.line();
    ctx.out.table(
      ['DEPLOYMENT', 'VERSION', 'REVISION', 'STATUS', 'UPDATED'],
      e.deployments.map((d) => [d.name, d.version, String(d.revision), enumLabel(commonV1.ActionStatus, 'ACTION_STATUS_', d.status), time(d.updatedTime)]),
    );
  }
}

export const registerEndpoints: Register = (program, act) => {
  const endpoints = program.command('endpoints').description('Endpoints known to the broker: online/offline, last seen, route, recorder.');

  endpoints
    .command('list')
    .description('List endpoints, ordered by host name, with filters.')
    .option('--status <list>', `only these statuses, comma-separated: ${enumWords(moduleServerV1.EndpointStatus, 'ENDPOINT_STATUS_').join(', ')}`)
    .option('--os <os>', `only this OS: ${enumWords(commonV1.OperatingSystem, 'OPERATING_SYSTEM_').join(' | ')}`)
    .option('--host <text>', 'host name contains this (case-insensitive)')
    .option('--zone-proxy <id>', 'only endpoints routed through this zone proxy id')
    .option('--recorder <state>', `only endpoints whose recorder is: ${enumWords(commonV1.RecorderState, 'RECORDER_STATE_').join(' | ')}`)
    .option('--limit <n>', 'at most this many (default: all)')
    .action(
      act<{ status?: string; os?: string; host?: string; zoneProxy?: string; recorder?: string; limit?: string }>(async (ctx, o) => {
        const base = moduleServerV1.ListEndpointsRequest.fromPartial({
          statuses: o.status ? parseEnumList(moduleServerV1.EndpointStatus, 'ENDPOINT_STATUS_', '--status', o.status) : [],
          os: o.os ? parseEnum(commonV1.OperatingSystem, 'OPERATING_SYSTEM_', '--os', o.os) : 0,
          hostNameContains: o.host ?? '',
          zoneProxyId: o.zoneProxy ?? '',
          recorderState: o.recorder ? parseEnum(commonV1.RecorderState, 'RECORDER_STATE_', '--recorder', o.recorder) : 0,
        });
        const limit = o.limit ? Number(o.limit) : Infinity;
        const list: moduleServerV1.Endpoint[] = [];
        let total = 0;
        let pageToken = '';
        do {
          const res = await ctx.conn().unary(moduleServerV1.EndpointServiceService.listEndpoints, 'SESSION_READ', { ...base, pageSize: 1000, pageToken });
          list.push(...res.endpoints);
          total = res.totalSize;
          pageToken = res.nextPageToken;
        } while (pageToken && list.length < limit);
        const shown = list.slice(0, limit);
        const now = ctx.now();
        ctx.out.result({ endpoints: shown.map((e) => moduleServerV1.Endpoint.toJSON(e)), totalSize: total }, () => {
          ctx.out.table(
            ['HOST NAME', 'CLIENT ID', 'STATUS', 'LAST SEEN', 'ROUTE', 'OS', 'RECORDER', 'SESSIONS'],
            shown.map((e) => [
              e.hostName,
              e.clientId,
              endpointStatus(e.status),
              ago(e.lastSeenTime, now),
              routeText(e.route),
              enumLabel(commonV1.OperatingSystem, 'OPERATING_SYSTEM_', e.os),
              recorderText(e.recorderStatus),
              String(e.openSessions),
            ]),
            'no endpoints match',
          );
          if (shown.length > 0) {
            const online = shown.filter((e) => e.status === moduleServerV1.EndpointStatus.ENDPOINT_STATUS_ONLINE).length;
            ctx.out.line(`${shown.length} of ${total} endpoint(s); ${online} online, ${shown.length - online} not online`);
          }
        });
      }),
    );

  endpoints
    .command('show <endpoint>')
    .description(`One endpoint in detail. <endpoint> is an ${TARGET_HELP}.`)
    .action(
      act(async (ctx, _o, [target]) => {
        const res = await ctx.conn().unary(moduleServerV1.EndpointServiceService.getEndpoint, 'SESSION_READ', moduleServerV1.GetEndpointRequest.fromPartial({ target: parseTarget(target!) }));
        ctx.out.result(moduleServerV1.GetEndpointResponse.toJSON(res), () => res.endpoint && printEndpoint(ctx, res.endpoint));
      }),
    );
};
