// What the broker needs from the settings service, declared beside its use: the heartbeat
// policy, action group membership, the action lock mode (SPEC 1.4.2, 1.4.4, §3).
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
}

/** Fixed settings: for tests and for running without a settings service (development only). */
export class StaticSettings implements SettingsSource {
  policy: HeartbeatPolicy = DEFAULT_HEARTBEAT_POLICY;
  lockMode: ActionLockMode = 'BLOCK_ALL';
  /** null = All Computers; otherwise the client ids or host names in the group. */
  actionGroup: Set<string> | null = null;
  actionGroupName = 'All Computers';
  fqdn: string | undefined = undefined;

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
}
