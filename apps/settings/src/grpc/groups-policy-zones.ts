// dc.settings.v1 ActionGroupService, PolicyService and ZoneProxyService over the domain (SPEC 1.4.2, 1.4.6, 1.7.2, 3).
import { commonV1, settingsV1 } from '@dc/proto';
import type { GrpcServiceBinding } from '@dc/service-kit';
import type { ActionGroupTarget } from '../action-group/action-group';
import type { ComputerGroup, ComputerGroupInput } from '../computer-groups/computer-groups';
import type { ComputerGroupRule, RuleMatch } from '../computer-groups/rules';
import { toProtoHeartbeatPolicy } from '../content-build/content-builds';
import { InvalidArgument } from '../errors';
import type { CommunicationDirection, HeartbeatPolicy } from '../heartbeat-policy/heartbeat-policy';
import type { Settings } from '../settings';
import type { ZoneProxy, ZoneProxyStatus } from '../zone-proxies/zone-proxies';
import { type CallDeps, CRON, READ_OR_CRON, unary, WRITE } from './call';
import { component, fromEnum, logLevel, os, paginate, seconds, time, toEnum } from './convert';

export function toProtoActionGroup(settings: Settings): settingsV1.ActionGroup {
  const group = settings.actionGroup.get();
  return {
    target: toEnum(settingsV1.ActionGroupTarget, 'ACTION_GROUP_TARGET_', group.target),
    computerGroupId: group.computerGroupId,
    revision: group.revision,
    updateTime: group.updatedAt,
    updatedBy: group.revision ? (settings.store.changeAt(group.revision)?.actor ?? '') : '',
  };
}

export function toProtoGroup(g: ComputerGroup & { revision: number }): settingsV1.ComputerGroup {
  return {
    computerGroupId: g.id,
    name: g.name,
    description: g.description,
    match: toEnum(settingsV1.RuleMatch, 'RULE_MATCH_', g.match),
    rules: g.rules.map((r) => ({
      rule: r.kind === 'os' ? { $case: 'os', value: os.toProto(r.value) } : { $case: r.kind, value: r.value },
      negate: r.negate,
    })),
    revision: g.revision,
    createTime: time(g.createdAt),
    updateTime: time(g.updatedAt),
  };
}

function groupInput(g: settingsV1.ComputerGroup | undefined): ComputerGroupInput {
  if (!g) throw new InvalidArgument('group', 'is required');
  const rules: ComputerGroupRule[] = g.rules.map((r, i) => {
    if (!r.rule) throw new InvalidArgument(`group.rules[${i}]`, 'must set one of host_name_pattern, os, ip_cidr, tag');
    const value = r.rule.$case === 'os' ? os.toDomain(r.rule.value) : r.rule.value;
    return { kind: r.rule.$case, value, negate: r.negate };
  });
  const match = g.match === settingsV1.RuleMatch.RULE_MATCH_UNSPECIFIED ? 'ALL' : (fromEnum(settingsV1.RuleMatch, 'RULE_MATCH_', g.match) as RuleMatch);
  return { name: g.name, description: g.description, match, rules };
}

export function toProtoZoneProxy(z: ZoneProxy): settingsV1.ZoneProxy {
  return {
    zoneProxyId: z.id,
    name: z.name,
    endpointTargetHostname: z.endpointTargetHostname,
    endpointInboundIpAddress: z.endpointInboundIp,
    endpointInboundPort: z.endpointInboundPort,
    moduleServerTargetHostname: z.moduleServerTargetHostname,
    moduleServerInboundIpAddress: z.moduleServerInboundIp,
    moduleServerInboundPort: z.moduleServerInboundPort,
    payloadCertificateFingerprintSha256: z.certificateFingerprintSha256,
    status: toEnum(commonV1.ZoneProxyStatus, 'ZONE_PROXY_STATUS_', z.status),
    statusDetail: z.statusDetail,
    statusTime: time(z.statusUpdatedAt),
    activity: commonV1.ZoneProxyActivity.fromJSON(z.activity),
    createTime: time(z.createdAt),
    createdBy: z.createdBy,
  };
}

function fromProtoHeartbeatPolicy(p: commonV1.HeartbeatPolicy | undefined): HeartbeatPolicy {
  if (!p) throw new InvalidArgument('policy', 'is required');
  const interval = seconds('policy.interval', p.interval);
  if (interval === undefined) throw new InvalidArgument('policy.interval', 'is required (5 s to 1 h)');
  const direction =
    p.direction === commonV1.CommunicationDirection.COMMUNICATION_DIRECTION_UNSPECIFIED
      ? 'AGENT_INITIATED'
      : (fromEnum(commonV1.CommunicationDirection, 'COMMUNICATION_DIRECTION_', p.direction) as CommunicationDirection);
  return {
    intervalSeconds: interval,
    missedHeartbeatsBeforeOffline: p.missedHeartbeatsBeforeOffline,
    missedHeartbeatsBeforeAlert: p.missedHeartbeatsBeforeAlert ?? null,
    direction,
  };
}

export function toProtoLogLevels(settings: Settings): settingsV1.ComponentLogLevel[] {
  return settings.logLevels.list().map((l) => ({ component: component.toProto(l.service), level: logLevel.toProto(l.level) }));
}

export function actionGroupService(settings: Settings, deps: CallDeps): GrpcServiceBinding {
  const impl: settingsV1.ActionGroupServiceServer = {
    getActionGroup: unary(deps, 'GetActionGroup', READ_OR_CRON, () => ({ actionGroup: toProtoActionGroup(settings) })),
    setActionGroup: unary(deps, 'SetActionGroup', WRITE, (req: settingsV1.SetActionGroupRequest, ctx) => {
      const target = fromEnum(settingsV1.ActionGroupTarget, 'ACTION_GROUP_TARGET_', req.target) as ActionGroupTarget;
      settings.actionGroup.set(ctx.actor, { target, computerGroupId: req.computerGroupId });
      return { actionGroup: toProtoActionGroup(settings) };
    }),
    createComputerGroup: unary(deps, 'CreateComputerGroup', WRITE, (req: settingsV1.CreateComputerGroupRequest, ctx) => ({
      group: toProtoGroup(settings.computerGroups.create(ctx.actor, groupInput(req.group))),
    })),
    getComputerGroup: unary(deps, 'GetComputerGroup', READ_OR_CRON, (req: settingsV1.GetComputerGroupRequest) => ({
      group: toProtoGroup(settings.computerGroups.get(req.computerGroupId)),
    })),
    listComputerGroups: unary(deps, 'ListComputerGroups', READ_OR_CRON, (req: settingsV1.ListComputerGroupsRequest) => {
      const { page, nextPageToken } = paginate(settings.computerGroups.list(), req.pageSize, req.pageToken);
      return { groups: page.map(toProtoGroup), nextPageToken };
    }),
    updateComputerGroup: unary(deps, 'UpdateComputerGroup', WRITE, (req: settingsV1.UpdateComputerGroupRequest, ctx) => {
      const id = req.group?.computerGroupId ?? '';
      return { group: toProtoGroup(settings.computerGroups.update(ctx.actor, id, req.group?.revision ?? 0, groupInput(req.group))) };
    }),
    deleteComputerGroup: unary(deps, 'DeleteComputerGroup', WRITE, (req: settingsV1.DeleteComputerGroupRequest, ctx) => {
      settings.computerGroups.delete(ctx.actor, req.computerGroupId);
      return {};
    }),
    evaluateMembership: unary(deps, 'EvaluateMembership', READ_OR_CRON, (req: settingsV1.EvaluateMembershipRequest) => {
      const f = req.facts;
      if (!f) throw new InvalidArgument('facts', 'is required');
      return settings.actionGroup.contains({ hostname: f.hostName, fqdn: f.fqdn || undefined, os: os.toDomain(f.os), ipAddresses: f.ipAddresses, tags: f.tags });
    }),
  };
  return { definition: settingsV1.ActionGroupServiceService, implementation: impl };
}

export function policyService(settings: Settings, deps: CallDeps): GrpcServiceBinding {
  const impl: settingsV1.PolicyServiceServer = {
    getHeartbeatPolicy: unary(deps, 'GetHeartbeatPolicy', READ_OR_CRON, () => ({ policy: toProtoHeartbeatPolicy(settings.heartbeatPolicy.get()) })),
    updateHeartbeatPolicy: unary(deps, 'UpdateHeartbeatPolicy', WRITE, (req: settingsV1.UpdateHeartbeatPolicyRequest, ctx) => ({
      policy: toProtoHeartbeatPolicy(settings.heartbeatPolicy.set(ctx.actor, fromProtoHeartbeatPolicy(req.policy)).policy),
    })),
    getLogLevels: unary(deps, 'GetLogLevels', READ_OR_CRON, () => ({ levels: toProtoLogLevels(settings) })),
    setLogLevel: unary(deps, 'SetLogLevel', WRITE, (req: settingsV1.SetLogLevelRequest, ctx) => {
      const service = component.toDomain(req.component);
      settings.logLevels.set(ctx.actor, service, logLevel.toDomain(req.level));
      return { level: { component: req.component, level: logLevel.toProto(settings.logLevels.get(service)) } };
    }),
  };
  return { definition: settingsV1.PolicyServiceService, implementation: impl };
}

export function zoneProxyService(settings: Settings, deps: CallDeps): GrpcServiceBinding {
  const impl: settingsV1.ZoneProxyServiceServer = {
    addZoneProxy: unary(deps, 'AddZoneProxy', WRITE, (req: settingsV1.AddZoneProxyRequest, ctx) => {
      const { zoneProxy } = settings.zoneProxies.add(ctx.actor, {
        name: req.name,
        provisionPayload: req.provisionPayload,
        endpointTargetHostname: req.endpointTargetHostname,
        endpointInboundIp: req.endpointInboundIpAddress,
        endpointInboundPort: req.endpointInboundPort,
        moduleServerTargetHostname: req.moduleServerTargetHostname,
        moduleServerInboundIp: req.moduleServerInboundIpAddress,
        moduleServerInboundPort: req.moduleServerInboundPort,
      });
      return { zoneProxy: toProtoZoneProxy(zoneProxy) };
    }),
    getZoneProxy: unary(deps, 'GetZoneProxy', READ_OR_CRON, (req: settingsV1.GetZoneProxyRequest) => ({
      zoneProxy: toProtoZoneProxy(settings.zoneProxies.get(req.zoneProxyId)),
    })),
    listZoneProxies: unary(deps, 'ListZoneProxies', READ_OR_CRON, (req: settingsV1.ListZoneProxiesRequest) => {
      const all = settings.zoneProxies.list().sort((a, b) => a.name.localeCompare(b.name));
      const { page, nextPageToken } = paginate(all, req.pageSize, req.pageToken);
      return { zoneProxies: page.map(toProtoZoneProxy), nextPageToken };
    }),
    deleteZoneProxy: unary(deps, 'DeleteZoneProxy', WRITE, (req: settingsV1.DeleteZoneProxyRequest, ctx) => {
      settings.zoneProxies.delete(ctx.actor, req.zoneProxyId);
      return {};
    }),
    updateZoneProxy: unary(deps, 'UpdateZoneProxy', WRITE, (req: settingsV1.UpdateZoneProxyRequest) => settings.zoneProxies.update(req.zoneProxyId)),
    getZoneProxyProvisioning: unary(deps, 'GetZoneProxyProvisioning', CRON, (req: settingsV1.GetZoneProxyProvisioningRequest) => {
      const zoneProxy = settings.zoneProxies.get(req.zoneProxyId);
      return {
        zoneProxy: toProtoZoneProxy(zoneProxy),
        provisionSecret: settings.zoneProxies.provisionSecret(req.zoneProxyId),
        payloadCertificatePem: zoneProxy.certificatePem,
      };
    }),
    reportZoneProxyStatus: unary(deps, 'ReportZoneProxyStatus', CRON, (req: settingsV1.ReportZoneProxyStatusRequest, ctx) => {
      const status = fromEnum(commonV1.ZoneProxyStatus, 'ZONE_PROXY_STATUS_', req.status) as ZoneProxyStatus;
      const activity = req.activity ? (commonV1.ZoneProxyActivity.toJSON(req.activity) as Record<string, unknown>) : {};
      settings.zoneProxies.reportStatus(ctx.actor, req.zoneProxyId, status, req.statusDetail, activity);
      return {};
    }),
  };
  return { definition: settingsV1.ZoneProxyServiceService, implementation: impl };
}
