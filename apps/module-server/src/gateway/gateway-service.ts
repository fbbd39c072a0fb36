// The endpoint gateway service (dc.gateway.v1, :17475): enrolment, certificate renewal, the
// control channel (hello, heartbeats, action status, pings) and session streams.
import { randomUUID } from 'node:crypto';
import { Metadata, type ServerDuplexStream, type ServerUnaryCall, type sendUnaryData, status } from '@grpc/grpc-js';
import { DomainError, type GrpcServiceBinding, InvalidArgument, toServiceError, Unauthenticated, tlsSocketOf } from '@dc/service-kit';
import type { Logger } from 'pino';
import type { Clock } from '../clock';
import { common, gateway } from '../contracts';
import type { RevocationList } from '../enrolment/certificate-issuer';
import type { Enrolment } from '../enrolment/enrolment';
import type { EventLog } from '../events/event-log';
import type { Presence } from '../heartbeats/presence';
import type { BrokerMetrics } from '../metrics/broker-metrics';
import type { DisconnectReason, EndpointRegistry, TlsFailureCause } from '../registry/endpoint-registry';
import type { SessionBroker } from '../sessions/session-broker';
import { osName, type SettingsSource } from '../settings-link/settings-source';
import type { ConfigurationDeployer } from '../configuration/configuration-deployer';
import type { Uninstaller } from '../uninstall/uninstaller';
import type { ControlChannelHub, LiveChannel } from './control-channels';
import { relayedPeerOf } from '../zone-links/relayed-peer';
import { identifyPeer, identifyRelayedPeer, type PeerIdentity } from './peer-identity';

export interface GatewayDeps {
  readonly registry: EndpointRegistry;
  readonly presence: Presence;
  readonly events: EventLog;
  readonly enrolment: Enrolment;
  readonly revocation: RevocationList;
  readonly hub: ControlChannelHub;
  readonly sessions: SessionBroker;
  readonly settings: SettingsSource;
  readonly clock: Clock;
  readonly log: Logger;
  readonly metrics?: BrokerMetrics;
  readonly brokerVersion: string;
  /** An endpoint whose certificate expires sooner than this is sent a RenewCertificate action at hello. */
  readonly renewBeforeMs: number;
  /** The endpoint must send Hello this soon after opening the channel. */
  readonly helloTimeoutMs?: number;
  /** SPEC 1.7.4: Remove Tools to endpoints as they connect, and their answers. */
  readonly uninstall?: Pick<Uninstaller, 'onControlChannelOpen' | 'onActionStatus'>;
  /** SPEC 1.4.4: Configure Extension to endpoints behind the newest content build, and its answers. */
  readonly configuration?: Pick<ConfigurationDeployer, 'latestRevision' | 'onHello' | 'onActionStatus' | 'onControlChannelClosed'>;
}

type Ok = Extract<PeerIdentity, { ok: true }>;

/** gRPC server settings of the gateway, on :17475 and for connections relayed by zone proxies alike. */
export const GATEWAY_SERVER_OPTIONS = { 'grpc.keepalive_time_ms': 60_000, 'grpc.keepalive_timeout_ms': 20_000, 'grpc.max_concurrent_streams': 1000 } as const;

export function gatewayService(deps: GatewayDeps): GrpcServiceBinding {
  const log = deps.log.child({ server: 'gateway' });

  /** Identifies the caller by its client certificate; records and throws when refused. */
  function authenticate(call: object, method: string, remote: string): Ok {
    // Through a zone proxy the proxy's TLS handshake verified the certificate; the revocation
    // list is still checked here, as for a direct call (SPEC 1.4.6).
    const relayed = relayedPeerOf(call);
    const peer = relayed ? identifyRelayedPeer(relayed, deps.revocation) : identifyPeer(tlsSocketOf(call), deps.revocation);
    if (peer.ok) return peer;
    deps.metrics?.handshakeFailures.inc({ reason: peer.cause.toLowerCase() });
    if (peer.clientId && deps.registry.get(peer.clientId)) {
      // Our CA's signature verified, so the client id is trustworthy enough to attribute the failure.
      deps.registry.patch(peer.clientId, { lastTlsFailureAt: deps.clock.now(), lastTlsFailureCause: peer.cause, lastTlsFailureDetail: peer.detail });
      deps.events.record('HANDSHAKE_REFUSED', peer.clientId, 'endpoint certificate refused', { cause: peer.cause, detail: peer.detail, remote, method });
    }
    log.info({ cause: peer.cause, detail: peer.detail, remote, method, clientId: peer.clientId }, 'endpoint certificate refused');
    throw new Unauthenticated(peer.cause === 'REVOKED' ? 'certificate revoked' : peer.detail);
  }

  function fail(err: unknown) {
    if (!(err instanceof DomainError)) log.error({ err }, 'gateway call failed');
    return toServiceError(err, log);
  }

  const implementation: gateway.EndpointGatewayServiceServer = {
    enrol(call: ServerUnaryCall<gateway.EnrolRequest, gateway.EnrolResponse>, callback: sendUnaryData<gateway.EnrolResponse>) {
      const r = call.request;
      deps.enrolment
        .enrol({ csrPem: r.csrPem, enrolmentToken: r.enrolmentToken, hostName: r.hostName, os: common.operatingSystemToJSON(r.os), remoteAddress: hostOf(call.getPeer()) })
        .then(
          (issued) => callback(null, { clientId: issued.clientId, certificateChainPem: issued.certificateChainPem, trustBundlePem: issued.trustBundlePem, notAfter: issued.notAfter }),
          (err: unknown) => callback(fail(err)),
        );
    },

    renewCertificate(call: ServerUnaryCall<gateway.RenewCertificateRequest, gateway.RenewCertificateResponse>, callback: sendUnaryData<gateway.RenewCertificateResponse>) {
      let peer: Ok;
      try {
        peer = authenticate(call, 'RenewCertificate', call.getPeer());
      } catch (err) {
        callback(fail(err));
        return;
      }
      deps.enrolment.renew(peer.clientId, peer.serial, call.request.csrPem).then(
        (issued) => callback(null, { certificateChainPem: issued.certificateChainPem, trustBundlePem: issued.trustBundlePem, notAfter: issued.notAfter }),
        (err: unknown) => callback(fail(err)),
      );
    },

    controlChannel(call: ServerDuplexStream<gateway.ControlChannelRequest, gateway.ControlChannelResponse>) {
      const remote = call.getPeer();
      let peer: Ok;
      try {
        peer = authenticate(call, 'ControlChannel', remote);
      } catch (err) {
        call.emit('error', fail(err));
        return;
      }
      const clientId = peer.clientId;
      const clog = log.child({ clientId });
      let channel: LiveChannel | undefined;
      let closed = false;
      let goneAway: gateway.GoawayReason | undefined;
      const helloTimer = setTimeout(() => {
        if (!channel) call.emit('error', { code: status.DEADLINE_EXCEEDED, details: `no Hello within ${deps.helloTimeoutMs ?? 10_000} ms of opening the control channel` });
      }, deps.helloTimeoutMs ?? 10_000);

      const onClosed = (reason: DisconnectReason, detail: string) => {
        if (closed) return;
        closed = true;
        clearTimeout(helloTimer);
        if (!channel) return;
        const stillCurrent = deps.hub.detach(channel);
        if (goneAway === gateway.GoawayReason.GOAWAY_REASON_DUPLICATE_CONNECTION) return; // a newer channel took over
        if (goneAway === gateway.GoawayReason.GOAWAY_REASON_BROKER_SHUTDOWN) reason = 'BROKER_SHUTDOWN';
        if (stillCurrent || goneAway !== undefined) {
          deps.presence.disconnected(clientId, reason, detail);
          deps.sessions.onControlChannelClosed(clientId);
          deps.configuration?.onControlChannelClosed(clientId);
        }
        clog.debug({ reason, detail }, 'control channel closed');
      };

      const hello = (h: gateway.Hello) => {
        if (h.clientId && h.clientId !== clientId) {
          throw new InvalidArgument('hello.client_id', `must match the client id in the certificate ("${clientId}")`, h.clientId);
        }
        const now = deps.clock.now();
        if (!deps.registry.get(clientId)) {
          // Enrolled through the CA while this broker.db did not know it (e.g. another broker, or a restore).
          deps.registry.upsert(clientId, { enrolment: 'ENROLLED', certSerial: peer.serial, certNotAfter: peer.notAfter, enrolledAt: now }, now);
        } else if (deps.registry.get(clientId)!.certSerial !== peer.serial) {
          deps.registry.patch(clientId, { enrolment: 'ENROLLED', certSerial: peer.serial, certNotAfter: peer.notAfter });
        }
        const skew = h.endpointTime ? h.endpointTime.getTime() - now : null;
        deps.presence.hello(
          clientId,
          {
            hostname: h.hostName,
            ips: h.ipAddresses,
            os: common.operatingSystemToJSON(h.os).replace(/^OPERATING_SYSTEM_/, '').toLowerCase(),
            agentVersion: h.recorderVersion,
            toolsVersion: h.toolsVersion,
            actionLock: h.actionLock,
            recorderStatus: h.recorderStatus ? common.recorderStateToJSON(h.recorderStatus.state).replace(/^RECORDER_STATE_/, '') : '',
            route: relayedPeerOf(call)?.route ?? 'direct',
          },
          { clockSkewMs: skew },
        );
        rememberConnectFailures(clientId, h.connectFailures);
        deps.settings.refreshMembership?.(deps.registry.require(clientId)).catch((err: unknown) => clog.warn({ err: (err as Error).message }, 'cannot evaluate action group membership'));
        channel = {
          clientId,
          remoteAddress: remote,
          connectedAt: now,
          send: (m) => {
            if (!closed) call.write(m);
          },
          end: (goaway) => {
            if (closed) return;
            if (goaway) {
              goneAway = goaway.reason;
              call.write({ message: { $case: 'goaway', value: goaway } });
            }
            call.end();
            if (goaway?.reason === gateway.GoawayReason.GOAWAY_REASON_BROKER_SHUTDOWN) onClosed('BROKER_SHUTDOWN', goaway.detail);
          },
        };
        deps.hub.attach(channel);
        clearTimeout(helloTimer);
        const policy = deps.settings.heartbeatPolicy();
        call.write({
          message: {
            $case: 'helloAck',
            value: {
              serverTime: new Date(now),
              clientId,
              brokerVersion: deps.brokerVersion,
              latestConfigurationRevision: deps.configuration?.latestRevision(osName(h.os)) ?? 0,
              certificateNotAfter: new Date(peer.notAfter),
              heartbeatPolicy: {
                interval: { seconds: Math.floor(policy.intervalSeconds), nanos: Math.round((policy.intervalSeconds % 1) * 1e9) },
                missedHeartbeatsBeforeOffline: policy.missedHeartbeatsBeforeOffline,
                missedHeartbeatsBeforeAlert: policy.missedHeartbeatsBeforeAlert ?? undefined,
                direction: common.CommunicationDirection.COMMUNICATION_DIRECTION_AGENT_INITIATED,
              },
            },
          },
        });
        if (peer.notAfter - now < deps.renewBeforeMs) {
          channel.send({
            message: {
              $case: 'action',
              value: { actionId: randomUUID(), issuedTime: new Date(now), kind: { $case: 'renewCertificate', value: { reason: `certificate expires ${new Date(peer.notAfter).toISOString()}` } } },
            },
          });
        }
        clog.debug({ remote }, 'control channel open');
        deps.uninstall?.onControlChannelOpen(clientId);
        deps.configuration?.onHello(clientId, h.configurationRevision).catch((err: unknown) => clog.error({ err }, 'Configure Extension at hello failed'));
      };

      call.on('data', (req: gateway.ControlChannelRequest) => {
        try {
          const m = req.message;
          if (!m) return;
          if (!channel) {
            if (m.$case !== 'hello') throw new InvalidArgument('message', 'the first message on the control channel must be Hello', m.$case);
            hello(m.value);
            return;
          }
          switch (m.$case) {
            case 'hello':
              throw new InvalidArgument('message', 'Hello is sent once, first', 'hello');
            case 'heartbeat':
              deps.presence.heartbeat(clientId);
              deps.metrics?.heartbeats.inc();
              call.write({ message: { $case: 'heartbeatAck', value: { sequence: m.value.sequence, serverTime: new Date(deps.clock.now()) } } });
              break;
            case 'actionStatus':
              deps.presence.heartbeat(clientId);
              deps.sessions.onActionStatus(clientId, m.value);
              deps.uninstall?.onActionStatus(clientId, m.value);
              deps.configuration?.onActionStatus(clientId, m.value);
              break;
            case 'pong':
              deps.hub.pong(m.value);
              break;
            case 'goodbye':
              deps.presence.goodbye(clientId, m.value.reason, m.value.detail);
              break;
            case 'recorderStatus':
              deps.registry.patch(clientId, { recorderStatus: common.recorderStateToJSON(m.value.state).replace(/^RECORDER_STATE_/, '') });
              break;
          }
        } catch (err) {
          call.emit('error', fail(err));
          onClosed('TRANSPORT_ERROR', `protocol error: ${(err as Error).message}`);
        }
      });
      call.on('cancelled', () => onClosed('TRANSPORT_ERROR', 'the connection to the endpoint was lost (stream cancelled)'));
      call.on('end', () => {
        // grpc-js also ends the readable side when the stream is reset; let 'cancelled' win that race.
        setImmediate(() => {
          onClosed(call.cancelled ? 'TRANSPORT_ERROR' : 'CLEAN_CLOSE', call.cancelled ? 'the connection to the endpoint was lost' : 'the endpoint closed the channel');
          if (!call.cancelled) call.end();
        });
      });
      call.on('error', (err: Error) => onClosed('TRANSPORT_ERROR', err.message));
      call.on('close', () => onClosed('TRANSPORT_ERROR', 'the stream closed'));
    },

    sessionStream(call: ServerDuplexStream<gateway.SessionStreamRequest, gateway.SessionStreamResponse>) {
      // The broker's clock, for the endpoint's `doctor` clock-skew step (SPEC 3.4).
      const md = new Metadata();
      md.set('dc-server-time', new Date(deps.clock.now()).toISOString());
      call.sendMetadata(md);
      let peer: Ok;
      try {
        peer = authenticate(call, 'SessionStream', call.getPeer());
      } catch (err) {
        call.emit('error', fail(err));
        return;
      }
      let sessionId: string | undefined;
      let ended = false;
      const finish = (error?: string) => {
        if (ended) return;
        ended = true;
        if (sessionId) deps.sessions.onStreamEnded(sessionId, error);
      };
      call.on('data', (req: gateway.SessionStreamRequest) => {
        const m = req.message;
        if (!m) return;
        try {
          if (!sessionId) {
            if (m.$case !== 'attach') throw new InvalidArgument('message', 'the first message on a session stream must be SessionAttach', m.$case);
            const attached = deps.sessions.attach(peer.clientId, m.value, {
              send: (msg) => {
                if (!ended) call.write(msg);
              },
              end: () => {
                ended = true;
                call.end();
              },
            });
            sessionId = m.value.sessionId;
            call.write({ message: { $case: 'attached', value: attached } });
            return;
          }
          if (m.$case === 'response') deps.sessions.onResponse(sessionId, m.value);
        } catch (err) {
          ended = true;
          call.emit('error', fail(err));
        }
      });
      call.on('end', () => {
        finish();
        if (!ended) call.end();
      });
      call.on('cancelled', () => finish('the connection to the endpoint was lost'));
      call.on('error', (err: Error) => finish(err.message));
    },
  };

  function rememberConnectFailures(clientId: string, failures: readonly gateway.ConnectFailure[]) {
    const tls = [...failures].reverse().find((f) => f.step === 'tls');
    if (!tls?.time) return;
    const cause = TLS_CAUSE[tls.tlsCause] ?? 'OTHER';
    const rec = deps.registry.get(clientId);
    if (rec?.lastTlsFailureAt && rec.lastTlsFailureAt >= tls.time.getTime()) return;
    deps.registry.patch(clientId, { lastTlsFailureAt: tls.time.getTime(), lastTlsFailureCause: cause, lastTlsFailureDetail: `reported by the endpoint: ${tls.detail} (${tls.attempts} attempts to ${tls.target})` });
  }

  return { definition: gateway.EndpointGatewayServiceService, implementation };
}

const TLS_CAUSE: Partial<Record<common.TlsFailureCause, TlsFailureCause>> = {
  [common.TlsFailureCause.TLS_FAILURE_CAUSE_CERTIFICATE_EXPIRED]: 'EXPIRED',
  [common.TlsFailureCause.TLS_FAILURE_CAUSE_CERTIFICATE_REVOKED]: 'REVOKED',
  [common.TlsFailureCause.TLS_FAILURE_CAUSE_UNKNOWN_CA]: 'UNKNOWN_CA',
  [common.TlsFailureCause.TLS_FAILURE_CAUSE_CLOCK_SKEW]: 'CLOCK_SKEW',
  [common.TlsFailureCause.TLS_FAILURE_CAUSE_NO_CLIENT_CERTIFICATE]: 'NO_CERTIFICATE',
  [common.TlsFailureCause.TLS_FAILURE_CAUSE_OTHER]: 'OTHER',
};

/** "ipv4:10.0.0.5:51234" / "ipv6:[::1]:5000" / "10.0.0.5:51234" → the address. */
export function hostOf(peer: string): string {
  const p = peer.replace(/^ipv[46]:/, '');
  const v6 = /^\[([^\]]+)\]/.exec(p);
  if (v6) return v6[1]!;
  const i = p.lastIndexOf(':');
  return i > 0 ? p.slice(0, i) : p;
}
