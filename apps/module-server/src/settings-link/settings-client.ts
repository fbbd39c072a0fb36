// The settings service over gRPC (dc.settings.v1): the heartbeat policy, connection settings
// (FQDN, action lock mode), log level and content builds followed live over WatchService (a
// finished build's configuration per OS read with GetEndpointPackage, token removed); action group
// membership via EvaluateMembership (cached); RBAC via RbacService.CheckPermission (cached for
// the answer's cache_ttl). Authenticates with the service account's token (SPEC 1.4.3).
import { type ChannelCredentials, type ClientReadableStream, Metadata, type ServiceError, status } from '@grpc/grpc-js';
import { commonV1 as common, settingsV1 as settings } from '@dc/proto';
import type { Logger } from 'pino';
import type { Permission, PermissionChecker, PermissionVerdict } from '../api/permission-checker';
import { DEFAULT_HEARTBEAT_POLICY, type HeartbeatPolicy } from '../heartbeats/heartbeat-policy';
import { type ActionGroupVerdict, type ActionLockMode, type ContentRelease, contentRelease, osName, type SettingsSource } from './settings-source';

/** The operating systems a content build packages (SPEC 1.4.4). */
const PACKAGE_OS = [common.OperatingSystem.OPERATING_SYSTEM_LINUX, common.OperatingSystem.OPERATING_SYSTEM_MACOS, common.OperatingSystem.OPERATING_SYSTEM_WINDOWS];

export interface SettingsClientOptions {
  readonly address: string;
  readonly credentials: ChannelCredentials;
  readonly channelOptions?: object;
  /** The service account's bearer token (secret; never logged). */
  readonly serviceToken: string;
  readonly log: Logger;
  /** Called with the module server's level when settings changes it (SPEC 1.7.2). */
  readonly onLogLevel?: (level: string) => void;
  readonly membershipTtlMs?: number;
}

const LOCK: Record<number, ActionLockMode> = {
  [common.ActionLockMode.ACTION_LOCK_MODE_BLOCK_ALL]: 'BLOCK_ALL',
  [common.ActionLockMode.ACTION_LOCK_MODE_ALLOW_NEW_CONNECTIONS]: 'ALLOW_NEW_CONNECTIONS',
  [common.ActionLockMode.ACTION_LOCK_MODE_ALLOW_NEW_CONNECTIONS_AND_CONFIGURATION]: 'ALLOW_NEW_CONNECTIONS_AND_CONFIGURATION',
};

export function heartbeatPolicyFrom(p: common.HeartbeatPolicy | undefined): HeartbeatPolicy {
  if (!p) return DEFAULT_HEARTBEAT_POLICY;
  const interval = p.interval ? p.interval.seconds + p.interval.nanos / 1e9 : DEFAULT_HEARTBEAT_POLICY.intervalSeconds;
  return {
    intervalSeconds: interval > 0 ? interval : DEFAULT_HEARTBEAT_POLICY.intervalSeconds,
    missedHeartbeatsBeforeOffline: p.missedHeartbeatsBeforeOffline || DEFAULT_HEARTBEAT_POLICY.missedHeartbeatsBeforeOffline,
    missedHeartbeatsBeforeAlert: p.missedHeartbeatsBeforeAlert ?? null, // unset = unlimited (SPEC 3.2)
  };
}

export class SettingsClient implements SettingsSource, PermissionChecker {
  private readonly rbac: settings.RbacServiceClient;
  private readonly groups: settings.ActionGroupServiceClient;
  private readonly watchClient: settings.WatchServiceClient;
  private readonly connection: settings.ConnectionSettingsServiceClient;
  private content: ContentRelease | undefined;
  private readonly contentListeners = new Set<(content: ContentRelease) => void>();
  /** The build being read (or to read again after a failure); newer builds replace it. */
  private contentWanted: { buildId: string; revision: number } | undefined;
  private contentLoading = false;
  private contentRetry?: NodeJS.Timeout;
  private policy: HeartbeatPolicy = DEFAULT_HEARTBEAT_POLICY;
  private lockMode: ActionLockMode = 'BLOCK_ALL';
  private fqdn: string | undefined;
  private readonly membership = new Map<string, { verdict: ActionGroupVerdict; at: number }>();
  private readonly permissionCache = new Map<string, { verdict: PermissionVerdict; until: number }>();
  private watchCall?: ClientReadableStream<settings.WatchResponse>;
  private stopped = false;
  private revision = 0;
  private retryMs = 1000;

  constructor(private readonly opts: SettingsClientOptions) {
    this.rbac = new settings.RbacServiceClient(opts.address, opts.credentials, opts.channelOptions);
    this.groups = new settings.ActionGroupServiceClient(opts.address, opts.credentials, opts.channelOptions);
    this.watchClient = new settings.WatchServiceClient(opts.address, opts.credentials, opts.channelOptions);
    this.connection = new settings.ConnectionSettingsServiceClient(opts.address, opts.credentials, opts.channelOptions);
  }

  private metadata(): Metadata {
    const md = new Metadata();
    md.set('authorization', `Bearer ${this.opts.serviceToken}`);
    return md;
  }

  heartbeatPolicy(): HeartbeatPolicy {
    return this.policy;
  }
  actionLockMode(): ActionLockMode {
    return this.lockMode;
  }
  brokerFqdn(): string | undefined {
    return this.fqdn;
  }

  latestContent(): ContentRelease | undefined {
    return this.content;
  }

  onContent(listener: (content: ContentRelease) => void): () => void {
    this.contentListeners.add(listener);
    return () => this.contentListeners.delete(listener);
  }

  actionGroupMembership(e: { clientId: string; hostname: string; ips: readonly string[] }): ActionGroupVerdict {
    return this.membership.get(e.clientId)?.verdict ?? { member: false, why: 'membership not evaluated yet by settings' };
  }

  async refreshMembership(e: { clientId: string; hostname: string; ips: readonly string[] }): Promise<ActionGroupVerdict> {
    const cached = this.membership.get(e.clientId);
    if (cached && Date.now() - cached.at < (this.opts.membershipTtlMs ?? 30_000)) return cached.verdict;
    const res = await new Promise<settings.EvaluateMembershipResponse>((resolve, reject) =>
      this.groups.evaluateMembership(
        { facts: settings.EndpointFacts.fromPartial({ clientId: e.clientId, hostName: e.hostname, ipAddresses: [...e.ips] }) },
        this.metadata(),
        (err, r) => (err ? reject(err) : resolve(r)),
      ),
    );
    const verdict = { member: res.inActionGroup, why: res.explanation };
    this.membership.set(e.clientId, { verdict, at: Date.now() });
    return verdict;
  }

  async check(token: string, permission: Permission, method: string): Promise<PermissionVerdict> {
    const key = `${token}\u0000${permission}`;
    const hit = this.permissionCache.get(key);
    if (hit && hit.until > Date.now()) return hit.verdict;
    const res = await new Promise<settings.CheckPermissionResponse>((resolve, reject) =>
      this.rbac.checkPermission(
        settings.CheckPermissionRequest.fromPartial({ token, permission: common.permissionFromJSON(`PERMISSION_${permission}`), method }),
        this.metadata(),
        (err, r) => (err ? reject(err) : resolve(r)),
      ),
    );
    const principal = res.principal ? { principalId: res.principal.principalId, name: res.principal.name } : undefined;
    const verdict: PermissionVerdict = res.allowed && principal ? { allowed: true, principal } : { allowed: false, principal, reason: res.denialReason || 'denied' };
    const ttl = res.cacheTtl ? res.cacheTtl.seconds * 1000 + res.cacheTtl.nanos / 1e6 : 0;
    if (ttl > 0) this.permissionCache.set(key, { verdict, until: Date.now() + ttl });
    return verdict;
  }

  /** Follows settings changes until close(); reconnects with backoff. Resolves after the first snapshot or failure. */
  startWatching(): Promise<void> {
    return new Promise((resolveFirst) => {
      const open = () => {
        if (this.stopped) return;
        const call = this.watchClient.watch({ kinds: [], sinceRevision: this.revision }, this.metadata());
        this.watchCall = call;
        call.on('data', (w: settings.WatchResponse) => {
          this.retryMs = 1000;
          this.revision = Math.max(this.revision, w.revision);
          this.apply(w);
          resolveFirst();
        });
        call.on('error', (err: ServiceError) => {
          if (this.stopped) return;
          this.opts.log.warn({ err: err.details ?? err.message, retryMs: this.retryMs }, 'settings watch failed; keeping the last settings and retrying');
          resolveFirst();
          setTimeout(open, this.retryMs).unref();
          this.retryMs = Math.min(this.retryMs * 2, 30_000);
        });
        call.on('end', () => {
          if (!this.stopped) setTimeout(open, this.retryMs).unref();
        });
      };
      open();
    });
  }

  private apply(w: settings.WatchResponse): void {
    const p = w.payload;
    if (!p) return;
    if (p.$case === 'heartbeatPolicy') {
      this.policy = heartbeatPolicyFrom(p.value);
      this.opts.log.info({ policy: this.policy }, 'heartbeat policy from settings');
    } else if (p.$case === 'connectionSettings') {
      this.fqdn = p.value.fqdn || undefined;
      this.lockMode = LOCK[p.value.actionLockMode] ?? 'BLOCK_ALL';
    } else if (p.$case === 'logLevels') {
      const mine = p.value.levels.find((l) => l.component === common.Component.COMPONENT_MODULE_SERVER);
      if (mine) this.opts.onLogLevel?.(common.logLevelToJSON(mine.level).replace(/^LOG_LEVEL_/, '').toLowerCase());
    } else if (p.$case === 'actionGroup' || p.$case === 'computerGroups') {
      this.membership.clear();
    } else if (p.$case === 'contentBuild') {
      const build = p.value;
      const succeeded = build.state === settings.ContentBuildState.CONTENT_BUILD_STATE_SUCCEEDED;
      // The snapshot names the newest build, which may still be building: then the newest
      // successful one (empty build id) is what endpoints should run.
      if (succeeded) this.wantContent({ buildId: build.buildId, revision: build.revision });
      else if (w.snapshot) this.wantContent({ buildId: '', revision: 0 });
    }
  }

  private wantContent(want: { buildId: string; revision: number }): void {
    if (this.content && want.revision !== 0 && want.revision <= this.content.revision) return;
    if (this.contentWanted && want.revision !== 0 && want.revision < this.contentWanted.revision) return;
    this.contentWanted = want;
    void this.loadContent();
  }

  /** Reads the wanted build's configuration for every OS; a failure is retried while it is still the newest. */
  private async loadContent(): Promise<void> {
    if (this.contentLoading || this.stopped) return;
    const want = this.contentWanted;
    if (!want) return;
    this.contentLoading = true;
    clearTimeout(this.contentRetry);
    try {
      // A build without a package for some OS (NOT_FOUND) still serves the others.
      const packages = await Promise.all(
        PACKAGE_OS.map((os) =>
          new Promise<settings.GetEndpointPackageResponse | undefined>((resolve, reject) =>
            this.connection.getEndpointPackage({ os, buildId: want.buildId }, this.metadata(), (err, r) => (err?.code === status.NOT_FOUND ? resolve(undefined) : err ? reject(err) : resolve(r))),
          ),
        ),
      );
      const found = packages.flatMap((p, i) => (p?.configuration ? [{ os: osName(PACKAGE_OS[i]!), buildId: p.buildId, configuration: p.configuration }] : []));
      const revision = found[0]?.configuration.revision ?? 0;
      const buildId = found[0]?.buildId ?? want.buildId;
      if (this.contentWanted === want) this.contentWanted = undefined;
      if (found.length > 0 && (!this.content || revision > this.content.revision)) {
        this.content = contentRelease(buildId, revision, found.map((f) => [f.os, f.configuration] as [string, common.EndpointConfiguration]));
        this.opts.log.info({ buildId, revision }, 'content build from settings');
        for (const l of [...this.contentListeners]) l(this.content);
      }
    } catch (err) {
      const e = err as ServiceError;
      if (e.code === status.FAILED_PRECONDITION && !want.buildId) {
        if (this.contentWanted === want) this.contentWanted = undefined; // no build has succeeded yet
      } else if (!this.stopped) {
        this.opts.log.warn({ err: e.details ?? e.message, buildId: want.buildId }, 'cannot read the content build from settings; retrying');
        this.contentRetry = setTimeout(() => void this.loadContent(), this.retryMs);
        this.contentRetry.unref();
      }
    } finally {
      this.contentLoading = false;
    }
    if (this.contentWanted && this.contentWanted !== want) void this.loadContent();
  }

  close(): void {
    this.stopped = true;
    clearTimeout(this.contentRetry);
    this.watchCall?.cancel();
    this.connection.close();
    this.rbac.close();
    this.groups.close();
    this.watchClient.close();
  }
}
