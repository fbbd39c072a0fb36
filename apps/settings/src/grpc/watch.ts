// dc.settings.v1 WatchService: the current value of each followed kind, then every committed change (live configuration).
import { settingsV1 } from '@dc/proto';
import type { GrpcServiceBinding } from '@dc/service-kit';
import { toProtoHeartbeatPolicy } from '../content-build/content-builds';
import type { Settings } from '../settings';
import type { WatchableKind } from '../watch/change-feed';
import { type CallDeps, READ_OR_CRON, serverStream } from './call';
import { toProtoActionGroup, toProtoGroup, toProtoLogLevels, toProtoZoneProxy } from './groups-policy-zones';
import { mergedRecorderJson, toProtoRecorderConfig } from './recorder-audit';
import { toProtoBuild, toProtoConnectionSettings } from './setup-connection';

const K = settingsV1.ChangeKind;

const CHANGE_KIND: Record<WatchableKind, settingsV1.ChangeKind> = {
  log_level: K.CHANGE_KIND_LOG_LEVEL,
  heartbeat_policy: K.CHANGE_KIND_HEARTBEAT_POLICY,
  recorder_config: K.CHANGE_KIND_RECORDER_CONFIG,
  zone_proxy: K.CHANGE_KIND_ZONE_PROXIES,
  connection_settings: K.CHANGE_KIND_CONNECTION_SETTINGS,
  action_group: K.CHANGE_KIND_ACTION_GROUP,
  content_build: K.CHANGE_KIND_CONTENT_BUILD,
  computer_group: K.CHANGE_KIND_COMPUTER_GROUPS,
};

const STORE_KIND = new Map(Object.entries(CHANGE_KIND).map(([store, proto]) => [proto, store as WatchableKind]));

/** The whole current value of one kind, as the payload of a WatchResponse. */
function payloadOf(settings: Settings, kind: WatchableKind, key: string): settingsV1.WatchResponse['payload'] | undefined {
  switch (kind) {
    case 'log_level':
      return { $case: 'logLevels', value: { levels: toProtoLogLevels(settings) } };
    case 'heartbeat_policy':
      return { $case: 'heartbeatPolicy', value: toProtoHeartbeatPolicy(settings.heartbeatPolicy.get()) };
    case 'recorder_config':
      return {
        $case: 'recorderConfig',
        value: { configs: settings.recorderConfig.list().map(toProtoRecorderConfig), mergedRecorderJson: mergedRecorderJson(settings, 'LINUX') },
      };
    case 'zone_proxy':
      return { $case: 'zoneProxies', value: { zoneProxies: settings.zoneProxies.list().map(toProtoZoneProxy) } };
    case 'connection_settings':
      return { $case: 'connectionSettings', value: toProtoConnectionSettings(settings) };
    case 'action_group':
      return { $case: 'actionGroup', value: toProtoActionGroup(settings) };
    case 'content_build': {
      const build = key ? settings.contentBuilds.get(key) : settings.contentBuilds.latest();
      return build && { $case: 'contentBuild', value: toProtoBuild(build) };
    }
    case 'computer_group':
      return { $case: 'computerGroups', value: { groups: settings.computerGroups.list().map(toProtoGroup) } };
  }
}

export function watchService(settings: Settings, deps: CallDeps): GrpcServiceBinding {
  const impl: settingsV1.WatchServiceServer = {
    watch: serverStream(deps, 'Watch', READ_OR_CRON, (req: settingsV1.WatchRequest, _ctx, write: (m: settingsV1.WatchResponse) => void) =>
      settings.changeFeed.subscribe(
        { sinceRevision: req.sinceRevision, kinds: req.kinds.flatMap((k) => STORE_KIND.get(k) ?? []) },
        (change) => {
          const payload = payloadOf(settings, change.kind, change.key);
          if (payload) write({ kind: CHANGE_KIND[change.kind], revision: change.revision, changeTime: change.at, snapshot: change.snapshot, payload });
        },
      ),
    ),
  };
  return { definition: settingsV1.WatchServiceService, implementation: impl };
}
