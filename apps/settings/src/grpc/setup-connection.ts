// dc.settings.v1 SetupService and ConnectionSettingsService over the domain (SPEC 1.4.1, 1.4.3, 1.4.4).
import { commonV1, settingsV1 } from '@dc/proto';
import type { GrpcServiceBinding } from '@dc/service-kit';
import { type ActionLockMode, ENDPOINT_CONNECTION_PORT } from '../connection-settings/connection-settings';
import type { ContentBuildRecord } from '../content-build/content-builds';
import type { OperatingSystem } from '../computer-groups/rules';
import { FailedPrecondition, InvalidArgument } from '../errors';
import type { ServiceAccountView } from '../service-account/service-account';
import type { Settings } from '../settings';
import { type CallDeps, READ, READ_OR_CRON, unary, WRITE, WRITE_OR_CRON } from './call';
import { fromEnum, os, paginate, seconds, time, toEnum } from './convert';


export function toProtoBuild(b: ContentBuildRecord): settingsV1.ContentBuild {
  return {
    buildId: b.buildId,
    revision: b.revision,
    state: toEnum(settingsV1.ContentBuildState, 'CONTENT_BUILD_STATE_', b.state),
    startTime: time(b.startedAt),
    finishTime: time(b.finishedAt),
    packages: b.packages.map((p) => ({ os: os.toProto(p.os), fileName: p.fileName, sizeBytes: p.sizeBytes, sha256: p.sha256 })),
    error: b.error,
    reason: b.reason,
    enrolmentTokenId: b.enrolmentTokenId,
  };
}

export function toProtoConnectionSettings(settings: Settings): settingsV1.ConnectionSettings {
  const saved = settings.connectionSettings.get();
  if (!saved) {
    return { fqdn: '', port: ENDPOINT_CONNECTION_PORT, actionLockMode: commonV1.ActionLockMode.ACTION_LOCK_MODE_BLOCK_ALL, revision: 0, updatedBy: '' };
  }
  const doc = settings.store.get('connection_settings', 'endpoint');
  return {
    fqdn: saved.settings.fqdn,
    port: saved.settings.port,
    actionLockMode: toEnum(commonV1.ActionLockMode, 'ACTION_LOCK_MODE_', saved.settings.actionLock),
    revision: saved.revision,
    updateTime: doc?.updatedAt,
    updatedBy: settings.store.changeAt(saved.revision)?.actor ?? '',
  };
}

function toProtoServiceAccount(view: ServiceAccountView): settingsV1.ServiceAccount {
  return {
    principalId: view.user,
    name: view.user,
    configured: view.configured,
    tokenId: view.token?.id ?? '',
    tokenExpireTime: time(view.token?.expiresAt),
    reentryRequired: view.reentryRequired,
  };
}

function setupStatus(settings: Settings): settingsV1.GetSetupStatusResponse {
  const { record, steps, complete } = settings.setupStatus();
  return {
    complete,
    mode: record ? toEnum(settingsV1.SetupMode, 'SETUP_MODE_', record.mode.toUpperCase()) : settingsV1.SetupMode.SETUP_MODE_UNSPECIFIED,
    applyTime: time(record?.completedAt),
    steps,
  };
}

export function setupService(settings: Settings, deps: CallDeps): GrpcServiceBinding {
  const impl: settingsV1.SetupServiceServer = {
    getSetupStatus: unary(deps, 'GetSetupStatus', READ, () => setupStatus(settings)),
    applySetup: unary(deps, 'ApplySetup', WRITE, (req: settingsV1.ApplySetupRequest, ctx) => {
      const mode = fromEnum(settingsV1.SetupMode, 'SETUP_MODE_', req.mode).toLowerCase();
      if (mode !== 'default' && mode !== 'custom') throw new InvalidArgument('mode', 'must be SETUP_MODE_DEFAULT or SETUP_MODE_CUSTOM', req.mode);
      const { serviceAccountToken } = settings.applySetup(ctx.actor, mode);
      return {
        status: setupStatus(settings),
        serviceAccount: mode === 'default' ? toProtoServiceAccount(settings.serviceAccount.get()) : undefined,
        serviceAccountToken,
      };
    }),
    getServiceAccount: unary(deps, 'GetServiceAccount', READ, () => ({ serviceAccount: toProtoServiceAccount(settings.serviceAccount.get()) })),
    setServiceAccount: unary(deps, 'SetServiceAccount', WRITE, (req: settingsV1.SetServiceAccountRequest, ctx) => {
      const ttl = seconds('token_ttl', req.tokenTtl);
      const { serviceAccount, token } = settings.serviceAccount.set(ctx.actor, req.name, ttl ?? null);
      return { serviceAccount: toProtoServiceAccount(serviceAccount), token };
    }),
  };
  return { definition: settingsV1.SetupServiceService, implementation: impl };
}

export function connectionSettingsService(settings: Settings, deps: CallDeps): GrpcServiceBinding {
  const impl: settingsV1.ConnectionSettingsServiceServer = {
    getConnectionSettings: unary(deps, 'GetConnectionSettings', READ_OR_CRON, () => {
      const latest = settings.contentBuilds.latest();
      return { settings: toProtoConnectionSettings(settings), latestBuild: latest && toProtoBuild(latest) };
    }),
    updateConnectionSettings: unary(deps, 'UpdateConnectionSettings', WRITE, async (req: settingsV1.UpdateConnectionSettingsRequest, ctx) => {
      const lock = req.actionLockMode === 0 ? undefined : (fromEnum(commonV1.ActionLockMode, 'ACTION_LOCK_MODE_', req.actionLockMode) as ActionLockMode);
      const saved = await settings.connectionSettings.save(ctx.actor, {
        fqdn: req.fqdn,
        port: req.port,
        actionLock: lock,
        skipResolutionCheck: req.skipResolutionCheck,
      });
      return {
        settings: toProtoConnectionSettings(settings),
        messages: saved.messages,
        contentBuild: toProtoBuild(saved.contentBuild),
        warnings: saved.warnings,
      };
    }),
    getContentBuild: unary(deps, 'GetContentBuild', READ_OR_CRON, (req: settingsV1.GetContentBuildRequest) => {
      const build = req.buildId ? settings.contentBuilds.get(req.buildId) : settings.contentBuilds.latest();
      if (!build) throw new FailedPrecondition('no content build yet; save the endpoint connection settings first');
      return { build: toProtoBuild(build) };
    }),
    listContentBuilds: unary(deps, 'ListContentBuilds', READ, (req: settingsV1.ListContentBuildsRequest) => {
      const { page, nextPageToken } = paginate(settings.contentBuilds.list(), req.pageSize, req.pageToken);
      return { builds: page.map(toProtoBuild), nextPageToken };
    }),
    startContentBuild: unary(deps, 'StartContentBuild', WRITE, (req: settingsV1.StartContentBuildRequest, ctx) => {
      if (!settings.connectionSettings.get()) {
        throw new FailedPrecondition('the endpoint connection settings have not been saved; UpdateConnectionSettings starts the first build');
      }
      return { build: toProtoBuild(settings.contentBuilds.start(ctx.actor, req.reason || `started by ${ctx.actor.name}`)) };
    }),
    getEndpointPackage: unary(deps, 'GetEndpointPackage', WRITE_OR_CRON, (req: settingsV1.GetEndpointPackageRequest) => {
      const target = os.toDomain(req.os);
      if (target === 'UNSPECIFIED') throw new InvalidArgument('os', 'must be WINDOWS, LINUX or MACOS', req.os);
      const pkg = settings.contentBuilds.endpointPackage(target as OperatingSystem, req.buildId || undefined);
      return {
        summary: { os: req.os, fileName: pkg.summary.fileName, sizeBytes: pkg.summary.sizeBytes, sha256: pkg.summary.sha256 },
        buildId: pkg.buildId,
        content: pkg.content,
        configuration: pkg.configuration,
      };
    }),
  };
  return { definition: settingsV1.ConnectionSettingsServiceService, implementation: impl };
}
