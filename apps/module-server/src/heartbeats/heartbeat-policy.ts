// The heartbeat policy the broker applies (SPEC §3.1–3.2); its source of truth is the settings service.
import { InvalidArgument } from '@dc/service-kit';

export interface HeartbeatPolicy {
  readonly intervalSeconds: number;
  /** Missed heartbeats after which the endpoint is Offline ("Managed (Offline)"). */
  readonly missedHeartbeatsBeforeOffline: number;
  /** Missed heartbeats after which an alert is raised; null = unlimited, never alert (SPEC 3.2). */
  readonly missedHeartbeatsBeforeAlert: number | null;
}

/** Same defaults as the settings service (apps/settings heartbeat-policy). */
export const DEFAULT_HEARTBEAT_POLICY: HeartbeatPolicy = {
  intervalSeconds: 60,
  missedHeartbeatsBeforeOffline: 3,
  missedHeartbeatsBeforeAlert: 3,
};

export function validateHeartbeatPolicy(p: HeartbeatPolicy): HeartbeatPolicy {
  if (!Number.isFinite(p.intervalSeconds) || p.intervalSeconds <= 0) {
    throw new InvalidArgument('intervalSeconds', 'must be a positive number of seconds', p.intervalSeconds);
  }
  if (!Number.isInteger(p.missedHeartbeatsBeforeOffline) || p.missedHeartbeatsBeforeOffline < 1) {
    throw new InvalidArgument('missedHeartbeatsBeforeOffline', 'must be a whole number of at least 1', p.missedHeartbeatsBeforeOffline);
  }
  if (p.missedHeartbeatsBeforeAlert !== null && (!Number.isInteger(p.missedHeartbeatsBeforeAlert) || p.missedHeartbeatsBeforeAlert < 1)) {
    throw new InvalidArgument('missedHeartbeatsBeforeAlert', 'must be a whole number of at least 1, or unlimited (null)', p.missedHeartbeatsBeforeAlert);
  }
  return p;
}
