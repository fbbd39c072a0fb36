// dcctl zone-proxies add / list / show / delete: zone proxies with their provision payload, status and activity (SPEC 1.4.6).
import { readFileSync } from 'node:fs';
import { commonV1, settingsV1 } from '@dc/proto';
import { usageError } from '../client/cli-error';
import { type Ctx, type Register } from '../context';
import { ago, bytes, enumLabel, time } from '../output/output';
import { parseIntIn } from '../parse';

const STATUS = (v: number) => enumLabel(commonV1.ZoneProxyStatus, 'ZONE_PROXY_STATUS_', v);

async function listProxies(ctx: Ctx): Promise<settingsV1.ZoneProxy[]> {
  const all: settingsV1.ZoneProxy[] = [];
  let pageToken = '';
  do {
    const res = await ctx.conn().unary(settingsV1.ZoneProxyServiceService.listZoneProxies, 'SETTINGS_READ', settingsV1.ListZoneProxiesRequest.fromPartial({ pageSize: 1000, pageToken }));
    all.push(...res.zoneProxies);
    pageToken = res.nextPageToken;
  } while (pageToken);
  return all;
}

async function findProxy(ctx: Ctx, idOrName: string): Promise<settingsV1.ZoneProxy> {
  const found = (await listProxies(ctx)).find((z) => z.zoneProxyId === idOrName || z.name === idOrName);
  if (!found) throw usageError(`zone proxy "${idOrName}": no zone proxy has this id or name`, 'dcctl zone-proxies list shows them');
  return found;
}

function printProxy(ctx: Ctx, z: settingsV1.ZoneProxy): void {
  const a = z.activity;
  ctx.out.fields([
    ['id', z.zoneProxyId],
    ['name', z.name],
    ['status', `${STATUS(z.status)}${z.statusDetail ? ` (${z.statusDetail})` : ''} since ${time(z.statusTime)}`],
    ['endpoint target hostname', z.endpointTargetHostname],
    ['endpoint inbound', `${z.endpointInboundIpAddress}:${z.endpointInboundPort}`],
    ['module server target hostname', z.moduleServerTargetHostname],
    ['module server inbound', `${z.moduleServerInboundIpAddress}:${z.moduleServerInboundPort}`],
    ['payload certificate sha-256', z.payloadCertificateFingerprintSha256],
    ['endpoints connected', String(a?.endpointsConnected ?? 0)],
    ['sessions relayed', String(a?.sessions ?? 0)],
    ['bytes to module server / endpoints', `${bytes(a?.bytesToModuleServer ?? 0)} / ${bytes(a?.bytesToEndpoints ?? 0)}`],
    ['connected since', time(a?.connectedSince)],
    ['last error', a?.lastError ? `${a.lastError} (${time(a.lastErrorTime)})` : '-'],
    ['created', `${time(z.createTime)}${z.createdBy ? ` by ${z.createdBy}` : ''}`],
  ]);
}

export const registerZoneProxies: Register = (program, act) => {
  const zp = program.command('zone-proxies').summary('Zone proxies: add from PROVISION.txt, list with status and activity, delete (SPEC 1.4.6).').description('Zone proxies for endpoints that reach the Module Server through a Zone Server (SPEC 1.4.6). A record cannot be modified: delete and add it again with a fresh payload.');

  zp.command('add')
    .description('Add a zone proxy with the provision payload its installer wrote to settings/PROVISION.txt.')
    .requiredOption('--name <name>', 'Name: unique, 1-64 of letters, digits, "-", "_", "."')
    .requiredOption('--provision-file <path>', 'Provision Payload: the PROVISION.txt file (PROVISION SECRET block, then CERTIFICATE block)')
    .requiredOption('--endpoint-target-hostname <host>', 'Endpoint Target Hostname: hostname, FQDN or IP endpoints use to reach the zone server')
    .requiredOption('--endpoint-inbound-ip <ip>', 'Endpoint Inbound IP Address: bind IPv4 address on the zone server for endpoint connections')
    .option('--endpoint-inbound-port <port>', 'Endpoint Inbound Port', '17486')
    .requiredOption('--module-server-target-hostname <host>', 'Module Server Target Hostname: name or IP the Module Server uses to reach the zone server')
    .requiredOption('--module-server-inbound-ip <ip>', 'Module Server Inbound IP Address: bind IP on the zone server for module-server connections')
    .option('--module-server-inbound-port <port>', 'Module Server Inbound Port', '17487')
    .action(
      act<{
        name: string;
        provisionFile: string;
        endpointTargetHostname: string;
        endpointInboundIp: string;
        endpointInboundPort: string;
        moduleServerTargetHostname: string;
        moduleServerInboundIp: string;
        moduleServerInboundPort: string;
      }>(async (ctx, o) => {
        let payload: string;
        try {
          payload = readFileSync(o.provisionFile, 'utf8');
        } catch (err) {
          throw usageError(`--provision-file "${o.provisionFile}": cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`, 'copy settings/PROVISION.txt from the zone server (written by its installer)');
        }
        const res = await ctx.conn().unary(
          settingsV1.ZoneProxyServiceService.addZoneProxy,
          'SETTINGS_WRITE',
          settingsV1.AddZoneProxyRequest.fromPartial({
            name: o.name,
            provisionPayload: payload,
            endpointTargetHostname: o.endpointTargetHostname,
            endpointInboundIpAddress: o.endpointInboundIp,
            endpointInboundPort: parseIntIn('--endpoint-inbound-port', o.endpointInboundPort, 1, 65535),
            moduleServerTargetHostname: o.moduleServerTargetHostname,
            moduleServerInboundIpAddress: o.moduleServerInboundIp,
            moduleServerInboundPort: parseIntIn('--module-server-inbound-port', o.moduleServerInboundPort, 1, 65535),
          }),
        );
        ctx.out.result(settingsV1.AddZoneProxyResponse.toJSON(res), () => {
          ctx.out.line(`zone proxy ${o.name} added; the module server provisions it now (status ${res.zoneProxy ? STATUS(res.zoneProxy.status) : '?'}).`);
          ctx.out.line('watch it become connected with: dcctl zone-proxies list');
        });
      }),
    );

  zp.command('list')
    .description('Zone proxies with status and activity.')
    .action(
      act(async (ctx) => {
        const list = await listProxies(ctx);
        const now = ctx.now();
        ctx.out.result({ zoneProxies: list.map((z) => settingsV1.ZoneProxy.toJSON(z)) }, () =>
          ctx.out.table(
            ['ID', 'NAME', 'STATUS', 'ENDPOINT TARGET', 'MODULE SERVER TARGET', 'ENDPOINTS', 'SESSIONS', 'CONNECTED SINCE', 'LAST ERROR'],
            list.map((z) => [
              z.zoneProxyId,
              z.name,
              STATUS(z.status),
              `${z.endpointTargetHostname}:${z.endpointInboundPort}`,
              `${z.moduleServerTargetHostname}:${z.moduleServerInboundPort}`,
              String(z.activity?.endpointsConnected ?? 0),
              String(z.activity?.sessions ?? 0),
              z.activity?.connectedSince ? ago(z.activity.connectedSince, now) : '-',
              z.activity?.lastError || z.statusDetail || '-',
            ]),
            'no zone proxies: dcctl zone-proxies add --name ... --provision-file PROVISION.txt ...',
          ),
        );
      }),
    );

  zp.command('show <zone-proxy>')
    .description('One zone proxy, by id or name.')
    .action(
      act(async (ctx, _o, [idOrName]) => {
        const found = await findProxy(ctx, idOrName!);
        const res = await ctx.conn().unary(settingsV1.ZoneProxyServiceService.getZoneProxy, 'SETTINGS_READ', settingsV1.GetZoneProxyRequest.fromPartial({ zoneProxyId: found.zoneProxyId }));
        ctx.out.result(settingsV1.GetZoneProxyResponse.toJSON(res), () => res.zoneProxy && printProxy(ctx, res.zoneProxy));
      }),
    );

  zp.command('delete <zone-proxy>')
    .description('Delete a zone proxy (by id or name); the module server drops its link and revokes its certificates.')
    .action(
      act(async (ctx, _o, [idOrName]) => {
        const found = await findProxy(ctx, idOrName!);
        await ctx.conn().unary(settingsV1.ZoneProxyServiceService.deleteZoneProxy, 'SETTINGS_WRITE', settingsV1.DeleteZoneProxyRequest.fromPartial({ zoneProxyId: found.zoneProxyId }));
        ctx.out.result({ zoneProxyId: found.zoneProxyId, name: found.name, deleted: true }, () => ctx.out.line(`zone proxy ${found.name} (${found.zoneProxyId}) deleted`));
      }),
    );
};
