// dc.settings.v1 RecorderConfigService and AuditLogService over the domain (SPEC 2.5–2.7; the audit log of changes).
import { commonV1, settingsV1 } from '@dc/proto';
import type { GrpcServiceBinding } from '@dc/service-kit';
import type { OperatingSystem } from '../computer-groups/rules';
import { InvalidArgument } from '../errors';
import type { StoredModuleConfig } from '../recorder-config/recorder-config';
import type { Settings } from '../settings';
import type { AuditEntry, AuditOutcome } from '../store/settings-store';
import { type CallDeps, CRON, LOGS, READ_OR_CRON, unary, WRITE } from './call';
import { component, fromEnum, os, time, toEnum } from './convert';

export function toProtoRecorderConfig(c: StoredModuleConfig): settingsV1.RecorderConfig {
  return {
    module: c.module,
    recorderJson: c.recorder,
    filtersJson: c.filters,
    watchlistJson: c.watchlist,
    signalsJson: c.signals,
    revision: c.revision,
    updateTime: time(c.updatedAt),
    updatedBy: c.updatedBy,
  };
}

export function mergedRecorderJson(settings: Settings, target: OperatingSystem): string {
  return `${JSON.stringify(settings.recorderConfig.merged(target).recorder, null, 2)}\n`;
}

function toProtoAuditEntry(e: AuditEntry): settingsV1.AuditEntry {
  return {
    entryId: String(e.revision),
    time: e.at,
    principal: e.actor,
    principalId: e.principalId,
    action: e.operation || `${e.action} ${e.kind}`,
    resource: `${e.kind}/${e.key}`,
    beforeJson: e.before === undefined ? '' : JSON.stringify(e.before),
    afterJson: e.after === undefined ? '' : JSON.stringify(e.after),
    outcome: toEnum(settingsV1.AuditOutcome, 'AUDIT_OUTCOME_', e.outcome),
    component: component.toProto(e.component),
    peerAddress: e.peer,
    detail: e.detail,
  };
}

/** JSON text as given by another service; kept as a string when it is not JSON. */
function parseJsonText(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export function recorderConfigService(settings: Settings, deps: CallDeps): GrpcServiceBinding {
  const rc = settings.recorderConfig;
  const impl: settingsV1.RecorderConfigServiceServer = {
    getRecorderConfig: unary(deps, 'GetRecorderConfig', READ_OR_CRON, (req: settingsV1.GetRecorderConfigRequest) => ({
      config: toProtoRecorderConfig(rc.get(req.module)),
    })),
    listRecorderConfigs: unary(deps, 'ListRecorderConfigs', READ_OR_CRON, () => ({ configs: rc.list().map(toProtoRecorderConfig) })),
    putRecorderConfig: unary(deps, 'PutRecorderConfig', WRITE, (req: settingsV1.PutRecorderConfigRequest, ctx) => {
      const c = req.config;
      if (!c) throw new InvalidArgument('config', 'is required');
      const result = rc.put(
        ctx.actor,
        { module: c.module, recorder: c.recorderJson, filters: c.filtersJson, watchlist: c.watchlistJson, signals: c.signalsJson },
        req.validateOnly,
      );
      return {
        errors: result.errors.map((e) => ({
          file: toEnum(settingsV1.RecorderConfigFile, 'RECORDER_CONFIG_FILE_', e.file.toUpperCase()),
          jsonPath: e.jsonPath,
          rule: e.rule,
          value: 'value' in e ? (JSON.stringify(e.value) ?? '') : '',
          message: e.message,
        })),
        config: result.config && toProtoRecorderConfig(result.config),
      };
    }),
    deleteRecorderConfig: unary(deps, 'DeleteRecorderConfig', WRITE, (req: settingsV1.DeleteRecorderConfigRequest, ctx) => {
      rc.delete(ctx.actor, req.module);
      return {};
    }),
    getMergedRecorderConfig: unary(deps, 'GetMergedRecorderConfig', READ_OR_CRON, (req: settingsV1.GetMergedRecorderConfigRequest) => {
      const target = req.os === commonV1.OperatingSystem.OPERATING_SYSTEM_UNSPECIFIED ? 'LINUX' : (os.toDomain(req.os) as OperatingSystem);
      const merged = rc.merged(target);
      return {
        recorderJson: `${JSON.stringify(merged.recorder, null, 2)}\n`,
        fields: merged.fields.map((f) => ({
          name: f.name,
          valueJson: f.valueJson,
          strategy: toEnum(settingsV1.MergeStrategy, 'MERGE_STRATEGY_', f.strategy),
          decidedBy: f.decidedBy,
          isDefault: f.isDefault,
        })),
        modules: merged.modules,
      };
    }),
  };
  return { definition: settingsV1.RecorderConfigServiceService, implementation: impl };
}

export function auditLogService(settings: Settings, deps: CallDeps): GrpcServiceBinding {
  const impl: settingsV1.AuditLogServiceServer = {
    listAuditEntries: unary(deps, 'ListAuditEntries', LOGS, (req: settingsV1.ListAuditEntriesRequest) => {
      if (req.pageSize < 0) throw new InvalidArgument('page_size', 'must be 0 (default 100) or more', req.pageSize);
      const limit = Math.min(req.pageSize || 100, 1000);
      let beforeRevision: number | undefined;
      if (req.pageToken) {
        beforeRevision = Number(Buffer.from(req.pageToken, 'base64url').toString().replace(/^r/, ''));
        if (!Number.isInteger(beforeRevision) || beforeRevision <= 0) throw new InvalidArgument('page_token', 'is not a token this list returned', req.pageToken);
      }
      const entries = settings.store.listAudit({
        beforeRevision,
        startTime: req.startTime,
        endTime: req.endTime,
        principal: req.principal || undefined,
        resourcePrefix: req.resourcePrefix || undefined,
        operation: req.action || undefined,
        limit: limit + 1,
      });
      const page = entries.slice(0, limit);
      const nextPageToken = entries.length > limit ? Buffer.from(`r${page[page.length - 1].revision}`).toString('base64url') : '';
      return { entries: page.map(toProtoAuditEntry), nextPageToken };
    }),
    recordAuditEntry: unary(deps, 'RecordAuditEntry', CRON, (req: settingsV1.RecordAuditEntryRequest, ctx) => {
      const e = req.entry;
      if (!e) throw new InvalidArgument('entry', 'is required');
      if (!e.action) throw new InvalidArgument('entry.action', 'is required (the operation, e.g. "RetrieveKey")');
      const slash = e.resource.indexOf('/');
      const [kind, key] = slash > 0 ? [e.resource.slice(0, slash), e.resource.slice(slash + 1)] : [e.resource || 'operation', ''];
      const outcome = e.outcome === settingsV1.AuditOutcome.AUDIT_OUTCOME_UNSPECIFIED ? 'SUCCEEDED' : (fromEnum(settingsV1.AuditOutcome, 'AUDIT_OUTCOME_', e.outcome) as AuditOutcome);
      const actor = {
        name: e.principal || ctx.actor.name,
        principalId: ctx.actor.name,
        operation: e.action,
        component: e.component ? component.toDomain(e.component) : 'unknown',
        peer: e.peerAddress || ctx.actor.peer,
      };
      const revision = settings.store.recordChange(actor, kind, key, 'event', parseJsonText(e.beforeJson), parseJsonText(e.afterJson), {
        outcome,
        detail: e.detail,
      });
      return { entryId: String(revision) };
    }),
  };
  return { definition: settingsV1.AuditLogServiceService, implementation: impl };
}
