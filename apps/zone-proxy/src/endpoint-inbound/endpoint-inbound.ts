// Endpoint inbound (:17486): serves dc.gateway.v1.EndpointGatewayService to endpoints, checks
// their client certificates (our CA, validity, revocation) and relays each call, undecoded,
// over the module server link with the verified identity (SPEC 1.4.6).
import { createHash } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import { type ServerDuplexStream, ServerCredentials, type ServiceDefinition, status, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { commonV1, gatewayV1, type zoneProxyV1 as zp } from '@dc/proto';
import { DomainError, tlsSocketOf } from '@dc/service-kit';
import { endpointIdOf, UNKNOWN_CA_ERRORS } from '@dc/zone-link';
import type { Logger } from 'pino';
import type { LinkHub, RelayedStream } from '../link/link-hub';

/** Trust the proxy enforces on the next handshake: roots and revoked serials. */
export interface TrustState {
  trustBundlePem: string;
  revocationVersion: number;
  revoked: Set<string>;
}

export function normaliseSerial(serial: string): string {
  return serial.replace(/[^0-9a-f]/gi, '').toLowerCase().replace(/^0+(?=.)/, '');
}

const ENROL = '/dc.gateway.v1.EndpointGatewayService/Enrol';
const passthrough = (b: Buffer) => b;

/** EndpointGatewayService with every method as a raw bidi stream: the proxy never decodes messages. */
export const RELAY_GATEWAY_DEFINITION: ServiceDefinition = Object.fromEntries(
  Object.entries(gatewayV1.EndpointGatewayServiceService).map(([name, m]) => [
    name,
    { path: m.path, requestStream: true, responseStream: true, requestSerialize: passthrough, requestDeserialize: passthrough, responseSerialize: passthrough, responseDeserialize: passthrough },
  ]),
) as ServiceDefinition;

/** Server TLS with client certificates requested but checked per call (Enrol needs none; health checks none). */
export function endpointInboundCredentials(certChainPem: string, keyPem: string, trustBundlePem: string): ServerCredentials {
  const creds = ServerCredentials.createSsl(Buffer.from(trustBundlePem), [{ cert_chain: Buffer.from(certChainPem), private_key: Buffer.from(keyPem) }], true);
  const original = creds._getConstructorOptions.bind(creds);
  creds._getConstructorOptions = () => ({ ...original(), requestCert: true, rejectUnauthorized: false });
  return creds;
}

type Verdict = { ok: true; identity: zp.EndpointIdentity } | { ok: false; failure: zp.HandshakeFailure; message: string };

const CAUSE = commonV1.TlsFailureCause;
/** Who the endpoint is, from its TLS socket; an anonymous identity is allowed for Enrol only. */
export function verifyEndpoint(socket: TLSSocket | undefined, remote: string, trust: TrustState, method: string, now: Date): Verdict {
  const refuse = (cause: commonV1.TlsFailureCause, detail: string, clientId = '', serial = ''): Verdict => ({
    ok: false,
    message: cause === CAUSE.TLS_FAILURE_CAUSE_CERTIFICATE_REVOKED ? 'certificate revoked' : detail,
    failure: { remoteAddress: remote, clientId, certificateSerial: serial, cause, detail, time: now },
  });
  const cert = socket?.getPeerCertificate();
  if (!socket || !cert || !cert.raw) {
    if (method === ENROL) return { ok: true, identity: { clientId: '', certificateSerial: '', certificateFingerprintSha256: '', remoteAddress: remote } };
    return refuse(CAUSE.TLS_FAILURE_CAUSE_NO_CLIENT_CERTIFICATE, 'no client certificate was presented');
  }
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

const DROP_METADATA = new Set(['content-type', 'te', 'grpc-timeout', 'grpc-accept-encoding', 'grpc-encoding', 'accept-encoding', 'host']);

export function endpointInboundService(deps: { hub: LinkHub; trust: () => TrustState; log: Logger; clock: { now(): number } }): { definition: ServiceDefinition; implementation: UntypedServiceImplementation } {
  const log = deps.log.child({ server: 'endpoint-inbound' });
  const handle = (call: ServerDuplexStream<Buffer, Buffer>) => {
    const method = call.getPath();
    const remote = call.getPeer().replace(/^ipv[46]:/, '');
    const verdict = verifyEndpoint(tlsSocketOf(call), remote, deps.trust(), method, new Date(deps.clock.now()));
    if (!verdict.ok) {
      deps.hub.reportHandshakeFailure(verdict.failure);
      log.info({ remote, method, cause: commonV1.tlsFailureCauseToJSON(verdict.failure.cause), detail: verdict.failure.detail }, 'endpoint certificate refused');
      call.emit('error', { code: status.UNAUTHENTICATED, details: verdict.message });
      return;
    }
    const metadata: Record<string, string> = {};
    for (const [k, v] of Object.entries(call.metadata.getMap())) if (typeof v === 'string' && !k.startsWith(':') && !DROP_METADATA.has(k)) metadata[k] = v;
    const deadline = call.getDeadline();
    const timeoutMs = deadline instanceof Date || typeof deadline === 'number' ? Math.max(0, Number(deadline) - Date.now()) : undefined;
    let finished = false;
    let stream: RelayedStream;
    try {
      stream = deps.hub.open(
        { method, identity: verdict.identity, metadata, timeoutMs: Number.isFinite(timeoutMs) ? timeoutMs : undefined },
        {
          deliver: (m, flushed) => {
            if (finished) return;
            call.write(m, () => flushed());
          },
          finish: (code, reason) => {
            if (finished) return;
            finished = true;
            if (code === status.OK) call.end();
            else call.emit('error', { code, details: reason });
          },
          pause: () => call.pause(),
          resume: () => call.resume(),
        },
      );
    } catch (err) {
      call.emit('error', { code: err instanceof DomainError ? err.code : status.INTERNAL, details: (err as Error).message });
      return;
    }
    call.on('data', (m: Buffer) => stream.data(m));
    call.on('end', () => stream.halfClose());
    call.on('cancelled', () => {
      finished = true;
      stream.cancel(status.CANCELLED, 'the endpoint cancelled the call');
    });
    call.on('error', (err: Error) => {
      finished = true;
      stream.cancel(status.UNAVAILABLE, `endpoint disconnected: ${err.message}`);
    });
  };
  const implementation = Object.fromEntries(Object.keys(RELAY_GATEWAY_DEFINITION).map((name) => [name, handle])) as UntypedServiceImplementation;
  return { definition: RELAY_GATEWAY_DEFINITION, implementation };
}
