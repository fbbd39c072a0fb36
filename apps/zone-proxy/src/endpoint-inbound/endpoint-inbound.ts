// Endpoint inbound (:17486): terminates the endpoints' TLS, checks their client certificates
// (our CA, validity, revocation) and relays each accepted connection's decrypted bytes to the
// module server with the verified identity (SPEC 1.4.6). A connection that is not relayed —
// refused certificate, no link — is served by the proxy's own gRPC server, which ends every
// call with the reason, so the endpoint sees the same statuses as from the gateway.
import { createHash } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import { type ServiceDefinition, status, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { commonV1, DESCRIPTOR_SET_BASE64, gatewayV1, type zoneProxyV1 as zp } from '@dc/proto';
import { injectedGrpcServer, type InjectedGrpcServer, tlsSocketOf } from '@dc/service-kit';
import { endpointIdOf, UNKNOWN_CA_ERRORS } from '@dc/zone-link';
import type { Logger } from 'pino';
import type { LinkHub } from '../link/link-hub';
import { type Listener, listenTls, type TlsMaterial } from '../tls-inbound';

/** Trust the proxy enforces on the next handshake: roots and revoked serials. */
export interface TrustState {
  trustBundlePem: string;
  revocationVersion: number;
  revoked: Set<string>;
}

export function normaliseSerial(serial: string): string {
  return serial.replace(/[^0-9a-f]/gi, '').toLowerCase().replace(/^0+(?=.)/, '');
}

type Verdict = { ok: true; identity: zp.EndpointIdentity } | { ok: false; failure: zp.HandshakeFailure; message: string };

const CAUSE = commonV1.TlsFailureCause;
/**
 * Who the endpoint is, from its TLS socket. No certificate at all gives the anonymous identity
 * (client id empty), which the module server serves Enrol only.
 */
export function verifyEndpoint(socket: TLSSocket, remote: string, trust: TrustState, now: Date): Verdict {
  const refuse = (cause: commonV1.TlsFailureCause, detail: string, clientId = '', serial = ''): Verdict => ({
    ok: false,
    message: cause === CAUSE.TLS_FAILURE_CAUSE_CERTIFICATE_REVOKED ? 'certificate revoked' : detail,
    failure: { remoteAddress: remote, clientId, certificateSerial: serial, cause, detail, time: now },
  });
  const cert = socket.getPeerCertificate();
  if (!cert || !cert.raw) return { ok: true, identity: { clientId: '', certificateSerial: '', certificateFingerprintSha256: '', remoteAddress: remote } };
  const serial = normaliseSerial(cert.serialNumber);
  const clientId = endpointIdOf(cert);
  if (!socket.authorized) {
    const code = String(socket.authorizationError ?? 'UNKNOWN');
    if (code === 'CERT_HAS_EXPIRED') return refuse(CAUSE.TLS_FAILURE_CAUSE_CERTIFICATE_EXPIRED, `client certificate expired ${cert.valid_to} (${code})`, clientId, serial);
    if (code === 'CERT_NOT_YET_VALID') return refuse(CAUSE.TLS_FAILURE_CAUSE_CLOCK_SKEW, `client certificate not valid before ${cert.valid_from} (${code})`, clientId, serial);
    if (UNKNOWN_CA_ERRORS.has(code)) return refuse(CAUSE.TLS_FAILURE_CAUSE_UNKNOWN_CA, `client certificate not issued by our CA (${code})`);
    return refuse(CAUSE.TLS_FAILURE_CAUSE_OTHER, `client certificate refused (${code})`);
  }
  if (trust.revoked.has(serial)) return refuse(CAUSE.TLS_FAILURE_CAUSE_CERTIFICATE_REVOKED, `client certificate ${serial} is revoked`, clientId, serial);
  if (!clientId) return refuse(CAUSE.TLS_FAILURE_CAUSE_OTHER, 'client certificate names no endpoint (no CN or urn:dc:endpoint: SAN)');
  return {
    ok: true,
    identity: {
      clientId,
      certificateSerial: serial,
      certificateFingerprintSha256: createHash('sha256').update(cert.raw).digest('hex'),
      certificateNotAfter: new Date(cert.valid_to),
      remoteAddress: remote,
    },
  };
}

const REFUSAL = Symbol('dc.zone-proxy.refusal');
type Refused = TLSSocket & { [REFUSAL]?: { code: number; details: string } };

/** EndpointGatewayService answering every call with its connection's refusal. */
export function refusalService(): { definition: ServiceDefinition; implementation: UntypedServiceImplementation } {
  const refusalOf = (call: object) => (tlsSocketOf(call) as Refused | undefined)?.[REFUSAL] ?? { code: status.UNAVAILABLE, details: 'the zone proxy cannot relay this connection' };
  const streaming = (call: { emit(e: 'error', s: { code: number; details: string }): void } & object) => call.emit('error', refusalOf(call));
  const unary = (call: object, cb: (e: { code: number; details: string }) => void) => cb(refusalOf(call));
  const methods = gatewayV1.EndpointGatewayServiceService;
  const implementation = Object.fromEntries(Object.entries(methods).map(([name, m]) => [name, m.requestStream || m.responseStream ? streaming : unary]));
  return { definition: methods, implementation: implementation as UntypedServiceImplementation };
}

export interface EndpointInbound extends Listener {
  /** Serves this endpoint connection with one status for every call (it will not be relayed). */
  refuse(endpoint: TLSSocket, code: number, details: string): void;
  /** Health of :17486 for load balancers: SERVING while linked. */
  setServing(serving: boolean): void;
}

export async function startEndpointInbound(deps: {
  host: string;
  port: number;
  tls: TlsMaterial;
  hub: () => LinkHub;
  trust: () => TrustState;
  log: Logger;
  clock: { now(): number };
}): Promise<EndpointInbound> {
  const log = deps.log.child({ server: 'endpoint-inbound' });
  const refusals: InjectedGrpcServer = injectedGrpcServer({ services: [refusalService()], descriptorSetBase64: DESCRIPTOR_SET_BASE64 });
  const refuse = (endpoint: TLSSocket, code: number, details: string) => {
    (endpoint as Refused)[REFUSAL] = { code, details };
    endpoint.resume();
    refusals.inject(endpoint);
  };
  const listener = await listenTls({
    name: 'endpoint-inbound',
    host: deps.host,
    port: deps.port,
    tls: deps.tls,
    alpn: ['h2'],
    log: deps.log,
    onConnection: (socket) => {
      const remote = `${socket.remoteAddress}:${socket.remotePort}`;
      const verdict = verifyEndpoint(socket, remote, deps.trust(), new Date(deps.clock.now()));
      if (!verdict.ok) {
        deps.hub().reportHandshakeFailure(verdict.failure);
        log.info({ remote, cause: commonV1.tlsFailureCauseToJSON(verdict.failure.cause), detail: verdict.failure.detail }, 'endpoint certificate refused');
        refuse(socket, status.UNAUTHENTICATED, verdict.message);
        return;
      }
      deps.hub().relay(socket, verdict.identity);
    },
  });
  return {
    port: listener.port,
    refuse,
    setServing: (serving) => refusals.setServing(serving),
    async shutdown(graceMs) {
      await listener.shutdown(graceMs);
      refusals.close();
    },
  };
}
