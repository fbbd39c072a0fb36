// dc.settings.v1 WatchService: the current value of each followed kind, then every committed change (SPEC 1.7.2 live config).
import { settingsV1 } from '@dc/proto';
import type { GrpcServiceBinding } from '@dc/service-kit';
import { toProtoHeartbeatPolicy } from '../content-build/content-builds';
import type { Settings } from '../settings';
import type { ChangeRecord } from '../store/settings-store';
import { type CallDeps, READ_OR_CRON, serverStream } from './call';
import { toProtoBuild, toProtoConnectionSettings } from './setup-connection';
import { toProtoActionGroup, toProtoGroup, toProtoLogLevels, toProtoZoneProxy } from './groups-policy-zones';
import { mergedRecorderJson, toProtoRecorderConfig } from './recorder-audit';
import type { ContentBuildRecord } from '../content-build/content-builds';

const K = settingsV1.ChangeKind;

/** Store document kind → watched change kind. */
const KIND_OF: Record<string, settingsV1.ChangeKind> = {
  log_level: K.CHANGE_KIND_LOG_LEVEL,
  heartbeat_policy: K.CHANGE_KIND_HEARTBEAT_POLICY,
  recorder_config: K.CHANGE_KIND_RECORDER_CONFIG,
  zone_proxy: K.CHANGE_KIND_ZONE_PROXIES,
  connection_settings: K.CHANGE_KIND_CONNECTION_SETTINGS,
  action_group: K.CHANGE_KIND_ACTION_GROUP,
  content_build: K.CHANGE_KIND_CONTENT_BUILD,
  computer_group: K.CHANGE_KIND_COMPUTER_GROUPS,
};

const ALL_KINDS = Object.values(KIND_OF);

/** The whole current value of one kind, as the payload of a WatchResponse. */
function payloadOf(settings: Settings, kind: settingsV1.ChangeKind, buildId?: string): settingsV1.WatchResponse['payload'] | undefined {
  switch (kind) {
    case K.CHANGE_KIND_LOG_LEVEL:
      return { $case: 'logLevels', value: { levels: toProtoLogLevels(settings) } };
    case K.CHANGE_KIND_HEARTBEAT_POLICY:
      return { $case: 'heartbeatPolicy', value: toProtoHeartbeatPolicy(settings.heartbeatPolicy.get()) };
    case K.CHANGE_KIND_RECORDER_CONFIG:
      return {
        $case: 'recorderConfig',
        value: { configs: settings.recorderConfig.list().map(toProtoRecorderConfig), mergedRecorderJson: mergedRecorderJson(settings, 'LINUX') },
      };
    case K.CHANGE_KIND_ZONE_PROXIES:
      return { $case: 'zoneProxies', value: { zoneProxies: settings.zoneProxies.list().map(toProtoZoneProxy) } };
    case K.CHANGE_KIND_CONNECTION_SETTINGS:
      return { $case: 'connectionSettings', value: toProtoConnectionSettings(settings) };
    case K.CHANGE_KIND_ACTION_GROUP:
      return { $case: 'actionGroup', value: toProtoActionGroup(settings) };
    case K.CHANGE_KIND_CONTENT_BUILD: {
      const build: ContentBuildRecord | undefined = buildId ? settings.contentBuilds.get(buildId) : settings.contentBuilds.latest();
      return build && { $case: 'contentBuild', value: toProtoBuild(build) };
    }
    case K.CHANGE_KIND_COMPUTER_GROUPS:
      return { $case: 'computerGroups', value: { groups: settings.computerGroups.list().map(toProtoGroup) } };
    default:
      return undefined;
  }
}

export function watchService(settings: Settings, deps: CallDeps): GrpcServiceBinding {
  const impl: settingsV1.WatchServiceServer = {
    watch: serverStream(deps, 'Watch', READ_OR_CRON, (req: settingsV1.WatchRequest, _ctx, write: (m: settingsV1.WatchResponse) => void) => {
      const wanted = new Set(req.kinds.length > 0 ? req.kinds : ALL_KINDS);
      const send = (kind: settingsV1.ChangeKind, revision: number, at: Date, snapshot: boolean, buildId?: string) => {
        const payload = payloadOf(settings, kind, buildId);
        if (payload) write({ kind, revision, changeTime: at, snapshot, payload });
      };
      // Replay and subscription run in one synchronous step: no change can fall between them.
      const { store } = settings;
      let last = store.revision();
      if (req.sinceRevision <= 0) {
        for (const kind of wanted) send(kind, last, new Date(), true);
      } else {
        // Coalesced: the current value once per kind changed since the given revision.
        const latest = new Map<settingsV1.ChangeKind, ChangeRecord>();
        for (let batch = store.changesSince(req.sinceRevision); batch.length > 0; batch = store.changesSince(batch[batch.length - 1].revision)) {
          for (const c of batch) {
            const kind = KIND_OF[c.kind];
            if (kind !== undefined && wanted.has(kind)) latest.set(kind, c);
          }
        }
        for (const [kind, c] of [...latest].sort((a, b) => a[1].revision - b[1].revision)) {
          send(kind, c.revision, c.at, false, kind === K.CHANGE_KIND_CONTENT_BUILD ? c.key : undefined);
        }
      }
      return store.onChange((c) => {
        if (c.revision <= last) return;
        last = c.revision;
        const kind = KIND_OF[c.kind];
        if (kind === undefined || !wanted.has(kind)) return;
        send(kind, c.revision, c.at, false, kind === K.CHANGE_KIND_CONTENT_BUILD ? c.key : undefined);
      });
    }),
  };
  return { definition: settingsV1.WatchServiceService, implementation: impl };
}
