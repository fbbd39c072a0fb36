// The broker's Prometheus metrics (issue #6 §6): endpoints online/offline by route, sessions by
// status, heartbeat lag, handshake failures by reason, requests relayed.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { EndpointRegistry } from '../registry/endpoint-registry';
import type { Clock } from '../clock';
import type { ControlChannelHub } from '../gateway/control-channels';

export class BrokerMetrics {
  readonly heartbeats: Counter;
  readonly handshakeFailures: Counter<'reason'>;
  readonly requestsRelayed: Counter<'kind' | 'outcome'>;
  readonly sessionOpenSeconds: Histogram;
  readonly sessionsByStatus: Counter<'status'>;

  constructor(registry: Registry, sources: { registry: EndpointRegistry; hub: ControlChannelHub; clock: Clock }) {
    const registers = [registry];
    this.heartbeats = new Counter({ name: 'dc_broker_heartbeats_total', help: 'Heartbeats received from endpoints', registers });
    this.handshakeFailures = new Counter({ name: 'dc_broker_handshake_failures_total', help: 'Endpoint certificates refused, by reason', labelNames: ['reason'], registers });
    this.requestsRelayed = new Counter({ name: 'dc_broker_session_requests_total', help: 'Session requests relayed to endpoints', labelNames: ['kind', 'outcome'], registers });
    this.sessionOpenSeconds = new Histogram({ name: 'dc_broker_session_open_seconds', help: 'Time from OpenSession to the endpoint attaching', buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], registers });
    this.sessionsByStatus = new Counter({ name: 'dc_broker_sessions_ended_total', help: 'Sessions ended, by final action status', labelNames: ['status'], registers });
    new Gauge({
      name: 'dc_broker_endpoints', help: 'Endpoints by status and route', labelNames: ['status', 'route'], registers,
      collect() {
        this.reset();
        for (const e of sources.registry.list()) {
          if (e.enrolment !== 'ENROLLED') continue;
          this.inc({ status: e.status.toLowerCase(), route: e.route });
        }
      },
    });
    new Gauge({ name: 'dc_broker_control_channels', help: 'Control channels attached now', registers, collect() { this.set(sources.hub.size); } });
    new Gauge({
      name: 'dc_broker_heartbeat_lag_seconds', help: 'Largest time since the last heartbeat among online endpoints', registers,
      collect() {
        const now = sources.clock.now();
        let max = 0;
        for (const e of sources.registry.list()) if (e.status === 'ONLINE' && e.lastHeartbeatAt !== null) max = Math.max(max, now - e.lastHeartbeatAt);
        this.set(max / 1000);
      },
    });
  }
}
