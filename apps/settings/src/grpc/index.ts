// Every dc.settings.v1 service bound to one settings domain: what main.ts (and the tests) serve.
import type { GrpcServiceBinding } from '@dc/service-kit';
import type { Logger } from 'pino';
import type { Settings } from '../settings';
import type { CallDeps } from './call';
import { actionGroupService, policyService, zoneProxyService } from './groups-policy-zones';
import { rbacService } from './rbac';
import { auditLogService, recorderConfigService } from './recorder-audit';
import { connectionSettingsService, setupService } from './setup-connection';
import { watchService } from './watch';

export interface SettingsGrpc {
  services: GrpcServiceBinding[];
  /** Ends every open watch stream (at shutdown, before the server drains). */
  endStreams(): void;
}

export function settingsGrpcServices(settings: Settings, log: Logger): SettingsGrpc {
  const deps: CallDeps = { accessControl: settings.accessControl, store: settings.store, log, openStreams: new Set() };
  const services = [
    setupService(settings, deps),
    connectionSettingsService(settings, deps),
    actionGroupService(settings, deps),
    policyService(settings, deps),
    zoneProxyService(settings, deps),
    rbacService(settings, deps),
    recorderConfigService(settings, deps),
    auditLogService(settings, deps),
    watchService(settings, deps),
  ];
  return { services, endStreams: () => [...deps.openStreams].forEach((finish) => finish()) };
}
