// What the broker needs from the settings service, declared beside its use: the heartbeat
// policy, action group membership, the action lock mode and the newest content build
// (SPEC 1.4.2, 1.4.4, §3).
import { common } from '../contracts';
import type { HeartbeatPolicy } from '../heartbeats/heartbeat-policy';
import { DEFAULT_HEARTBEAT_POLICY } from '../heartbeats/heartbeat-policy';

/** SPEC 1.4.4: what an endpoint with action lock on still accepts. */
export type ActionLockMode = 'BLOCK_ALL' | 'ALLOW_NEW_CONNECTIONS' | 'ALLOW_NEW_CONNECTIONS_AND_CONFIGURATION';

export interface ActionGroupVerdict {
  readonly member: boolean;
  /** Why not, for the refusal message, e.g. `action group is "No Computers"`. */
  readonly why: string;
}

export interface SettingsSource {
  heartbeatPolicy(): HeartbeatPolicy;
  actionLockMode(): ActionLockMode;
  /** Whether the endpoint is in the action group (SPEC 1.4.2); answered from the cached state. */
  actionGroupMembership(endpoint: { clientId: string; hostname: string; ips: readonly string[] }): ActionGroupVerdict;
  /** Re-evaluates membership when the answer comes from elsewhere (settings EvaluateMembership). */
  refreshMembership?(endpoint: { clientId: string; hostname: string; ips: readonly string[] }): Promise<ActionGroupVerdict>;
  /** The FQDN endpoints use to reach the broker (SPEC 1.4.4), if configured. */
  brokerFqdn(): string | undefined;
  /** The newest successful content build (SPEC 1.4.4), if any; its configurations carry no enrolment token. */
  latestContent(): ContentRelease | undefined;
  /** Calls the listener whenever a newer content build is learnt; returns the unsubscribe. */
  onContent(listener: (content: ContentRelease) => void): () => void;
}

/** A successful content build as the broker delivers it (Configure Extension, SPEC 1.4.4). */
export interface ContentRelease {
  readonly buildId: string;
  readonly revision: number;
  /** By operating system as the registry names it ('linux', 'macos', 'windows'); enrolment token removed. */
  readonly configurations: ReadonlyMap<string, common.EndpointConfiguration>;
}

/** The registry's name of a contract operating system: OPERATING_SYSTEM_LINUX → 'linux'. */
export function osName(os: common.OperatingSystem): string {
  return common.operatingSystemToJSON(os).replace(/^OPERATING_SYSTEM_/, '').toLowerCase();
}

/**
 * The configuration without its enrolment token: the token is a secret for fresh installs and
 * never travels in an action (gateway ConfigureExtensionAction).
 */
export function withoutEnrolmentToken(c: common.EndpointConfiguration): common.EndpointConfiguration {
  return { ...c, enrolmentToken: '' };
}

/** Builds a ContentRelease, removing every enrolment token. */
export function contentRelease(buildId: string, revision: number, configurations: Iterable<[string, common.EndpointConfiguration]>): ContentRelease {
  const byOs = new Map<string, common.EndpointConfiguration>();
  for (const [os, c] of configurations) byOs.set(os, withoutEnrolmentToken({ ...c, revision }));
  return { buildId, revision, configurations: byOs };
}

/** Fixed settings: for tests and for running without a settings service (development only). */
export class StaticSettings implements SettingsSource {
  policy: HeartbeatPolicy = DEFAULT_HEARTBEAT_POLICY;
  lockMode: ActionLockMode = 'BLOCK_ALL';
  /** null = All Computers; otherwise the client ids or host names in the group. */
  actionGroup: Set<string> | null = null;
  actionGroupName = 'All Computers';
  fqdn: string | undefined = undefined;
  private content: ContentRelease | undefined;
  private readonly contentListeners = new Set<(content: ContentRelease) => void>();

  heartbeatPolicy(): HeartbeatPolicy {
    return this.policy;
  }
  actionLockMode(): ActionLockMode {
    return this.lockMode;
  }
  actionGroupMembership(e: { clientId: string; hostname: string }): ActionGroupVerdict {
    if (this.actionGroup === null) return { member: true, why: `action group is "${this.actionGroupName}"` };
    const member = this.actionGroup.has(e.clientId) || this.actionGroup.has(e.hostname.toLowerCase());
    return { member, why: `action group is "${this.actionGroupName}" and ${member ? 'includes' : 'does not include'} ${e.hostname || e.clientId}` };
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
  /** Publishes a content build, as settings would after a successful build (tokens removed). */
  publishContent(buildId: string, revision: number, configurations: Iterable<[string, common.EndpointConfiguration]>): ContentRelease {
    this.content = contentRelease(buildId, revision, configurations);
    for (const l of [...this.contentListeners]) l(this.content);
    return this.content;
  }
}
