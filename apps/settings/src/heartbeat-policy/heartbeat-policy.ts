// Heartbeat policy (SPEC 3): interval, missed heartbeats before Offline, before an alert (or unlimited), direction.
import { InvalidArgument } from '../errors';
import type { Actor, SettingsStore } from '../store/settings-store';

export const COMMUNICATION_DIRECTIONS = ['AGENT_INITIATED', 'MANAGER_INITIATED', 'BIDIRECTIONAL'] as const;
export type CommunicationDirection = (typeof COMMUNICATION_DIRECTIONS)[number];

export interface HeartbeatPolicy {
  intervalSeconds: number;
  missedHeartbeatsBeforeOffline: number;
  /** null = unlimited: never raise an alert (machines that are often shut down, SPEC 3.2). */
  missedHeartbeatsBeforeAlert: number | null;
  direction: CommunicationDirection;
}

export const DEFAULT_HEARTBEAT_POLICY: HeartbeatPolicy = {
  intervalSeconds: 30,
  missedHeartbeatsBeforeOffline: 3,
  missedHeartbeatsBeforeAlert: 3,
  direction: 'AGENT_INITIATED', // SPEC 3.3: recommended where the other directions are unreliable
};

const LIMITS = {
  intervalSeconds: [5, 3600],
  missedHeartbeatsBeforeOffline: [1, 1000],
  missedHeartbeatsBeforeAlert: [1, 100_000],
} as const;

export const HEARTBEAT_POLICY_KIND = 'heartbeat_policy';
const KEY = 'default';

/** Checks every field; throws InvalidArgument naming the first field that breaks its rule. */
export function validateHeartbeatPolicy(policy: HeartbeatPolicy): HeartbeatPolicy {
  for (const field of ['intervalSeconds', 'missedHeartbeatsBeforeOffline'] as const) {
    checkRange(field, policy[field]);
  }
  const alert = policy.missedHeartbeatsBeforeAlert;
  if (alert !== null) {
    checkRange('missedHeartbeatsBeforeAlert', alert);
    if (alert < policy.missedHeartbeatsBeforeOffline) {
      throw new InvalidArgument('missedHeartbeatsBeforeAlert', `must be at least missedHeartbeatsBeforeOffline (${policy.missedHeartbeatsBeforeOffline}), since the alert reports an endpoint going offline; use unlimited for no alert`, alert);
    }
  }
  if (!COMMUNICATION_DIRECTIONS.includes(policy.direction)) {
    throw new InvalidArgument('direction', `must be one of ${COMMUNICATION_DIRECTIONS.join(', ')}`, String(policy.direction));
  }
  return policy;
}

function checkRange(field: keyof typeof LIMITS, value: number): void {
  const [min, max] = LIMITS[field];
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new InvalidArgument(field, `must be a whole number from ${min} to ${max}`, value);
  }
}

export class HeartbeatPolicyService {
  constructor(private readonly store: SettingsStore) {}

  get(): HeartbeatPolicy {
    return this.store.get<HeartbeatPolicy>(HEARTBEAT_POLICY_KIND, KEY)?.value ?? DEFAULT_HEARTBEAT_POLICY;
  }

  set(actor: Actor, policy: HeartbeatPolicy): { policy: HeartbeatPolicy; revision: number } {
    const valid = validateHeartbeatPolicy(policy);
    return { policy: valid, revision: this.store.put(actor, HEARTBEAT_POLICY_KIND, KEY, valid) };
  }
}
