// Builds the whole settings domain over one data directory; main.ts and the tests build it the same way.
import type { Logger } from 'pino';
import { ActionGroupService } from './action-group/action-group';
import type { Clock } from './clock';
import { ComputerGroupService } from './computer-groups/computer-groups';
import { ConnectionSettingsService } from './connection-settings/connection-settings';
import type { Resolver } from './connection-settings/fqdn';
import { ContentBuilds } from './content-build/content-builds';
import type { TrustSource } from './content-build/trust-source';
import { VERSION } from '@dc/service-kit';
import { FailedPrecondition } from './errors';
import { HeartbeatPolicyService } from './heartbeat-policy/heartbeat-policy';
import { LogLevelService } from './log-levels/log-levels';
import { AccessControl } from './rbac/access-control';
import { TokenService } from './rbac/tokens';
import { UserService } from './rbac/users';
import { RecorderConfigService } from './recorder-config/recorder-config';
import { ServiceAccountService } from './service-account/service-account';
import { applySetup, type SetupMode, type SetupRecord, runFirstStartSetup, setupRecord, setupSteps } from './setup/first-start';
import type { Actor } from './store/settings-store';
import { SecretBox } from './store/secret-box';
import { SettingsStore } from './store/settings-store';
import { ChangeFeed } from './watch/change-feed';
import { ZoneProxyService } from './zone-proxies/zone-proxies';

export interface SettingsOptions {
  dataDir: string;
  clock: Clock;
  log: Logger;
  trust: TrustSource;
  resolver: Resolver;
  enrolmentTokenTtlSeconds: number;
}

export type Settings = ReturnType<typeof openSettings>;

/** Opens settings.db in `dataDir` and wires every domain service over it. */
export function openSettings(opts: SettingsOptions) {
  const { clock, dataDir } = opts;
  const store = SettingsStore.open(dataDir, clock);
  const secrets = SecretBox.open(dataDir);
  // Late-bound: users and the service account guard each other.
  const late: {
    serviceAccount?: ServiceAccountService;
    tokens?: TokenService;
    actionGroup?: ActionGroupService;
    connectionSettings?: ConnectionSettingsService;
    contentBuilds?: ContentBuilds;
  } = {};
  const users = new UserService(store, clock, {
    beforeDelete(actor, name) {
      if (late.serviceAccount?.uses(name)) {
        throw new FailedPrecondition(`user "${name}" is the service account; designate another service account first`);
      }
      late.tokens?.revokeAllOf(actor, name);
    },
    beforeUpdate(current, next) {
      if (late.serviceAccount?.uses(current.name) && (!next.roles.includes('SERVICE_ACCOUNT') || next.disabled)) {
        throw new FailedPrecondition(
          `user "${current.name}" is the service account and must keep the SERVICE_ACCOUNT role and stay enabled (SPEC 1.4.3)`,
        );
      }
    },
  });
  const tokens = (late.tokens = new TokenService(store, users, clock));
  const serviceAccount = (late.serviceAccount = new ServiceAccountService({ store, users, tokens, version: VERSION, now: () => clock.now() }));
  const accessControl = new AccessControl(users, tokens);
  const computerGroups = new ComputerGroupService(store, clock, (id) => late.actionGroup?.usesGroup(id));
  const actionGroup = (late.actionGroup = new ActionGroupService(store, computerGroups));
  const heartbeatPolicy = new HeartbeatPolicyService(store);
  const logLevels = new LogLevelService(store);
  const zoneProxies = new ZoneProxyService({ store, secrets, clock });
  const recorderConfig = new RecorderConfigService(store, (actor, module) => {
    // SPEC 2.7 files travel in the packages: a stored change rebuilds content once settings exist.
    if (late.connectionSettings?.get()) late.contentBuilds?.start(actor, `recorder configuration of module ${module} changed`);
  });
  const contentBuilds = (late.contentBuilds = new ContentBuilds({
    store,
    trust: opts.trust,
    clock,
    log: opts.log.child({ component: 'content-build' }),
    enrolmentTokenTtlSeconds: opts.enrolmentTokenTtlSeconds,
    inputs: {
      connection: () => late.connectionSettings?.get()?.settings,
      zoneRoutes: () =>
        zoneProxies.list().map((z) => ({ zoneProxyId: z.id, zoneProxyName: z.name, host: z.endpointTargetHostname, port: z.endpointInboundPort })),
      heartbeatPolicy: () => heartbeatPolicy.get(),
      recorderFiles: () => recorderConfig.files(),
      endpointLogLevel: () => logLevels.get('endpoint-recorder'),
    },
  }));
  const connectionSettings = (late.connectionSettings = new ConnectionSettingsService({ store, contentBuilds, resolver: opts.resolver }));
  const changeFeed = new ChangeFeed(store);

  return {
    store,
    users,
    tokens,
    accessControl,
    serviceAccount,
    computerGroups,
    actionGroup,
    heartbeatPolicy,
    logLevels,
    zoneProxies,
    recorderConfig,
    contentBuilds,
    connectionSettings,
    changeFeed,
    /** First-start set-up (no-op once done); returns the set-up record in force. */
    setup(mode: SetupMode, installingIdentity: string): { record: SetupRecord; firstStart: boolean } {
      const created = runFirstStartSetup(
        { store, users, tokens, actionGroup, serviceAccount, clock, dataDir },
        { mode, installingIdentity },
      );
      return { record: created ?? (setupRecord(store) as SetupRecord), firstStart: created !== undefined };
    },
    /** ApplySetup: re-applies what a mode sets (see setup/first-start.ts). */
    applySetup(actor: Actor, mode: SetupMode) {
      return applySetup({ store, users, tokens, actionGroup, serviceAccount, clock, dataDir }, actor, mode);
    },
    setupStatus() {
      const record = setupRecord(store);
      const steps = setupSteps({
        serviceAccountConfigured: serviceAccount.get().configured,
        actionGroupTarget: actionGroup.get().target,
        connectionSettingsSaved: connectionSettings.get() !== undefined,
        latestBuildState: contentBuilds.latest()?.state,
      });
      return { record, steps, complete: steps.every((s) => s.done) };
    },
    async close(): Promise<void> {
      await contentBuilds.drain();
      store.close();
    },
  };
}
