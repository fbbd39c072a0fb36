// The TLS socket under a grpc-js server call, for servers that must tell refused client certificates apart.
import type { TLSSocket } from 'node:tls';

/**
 * grpc-js's getAuthContext() hides peers whose certificate did not verify, but the gateway and
 * the zone proxy must accept them at the TLS layer (Enrol needs no certificate) and record why
 * one is refused (expired, revoked, unknown CA: SPEC 3.4). This reads the socket from the call's
 * internals (grpc-js 1.14: call.call[.nextCall…].stream.session.socket) — the one place that
 * does, so a grpc-js upgrade is fixed here; the gateway and zone proxy tests cover it.
 */
export function tlsSocketOf(call: object): TLSSocket | undefined {
  let c: unknown = (call as { call?: unknown }).call;
  for (let depth = 0; c && depth < 8; depth++) {
    const socket = (c as { stream?: { session?: { socket?: unknown } } }).stream?.session?.socket;
    if (socket && typeof (socket as TLSSocket).getPeerCertificate === 'function') return socket as TLSSocket;
    c = (c as { nextCall?: unknown }).nextCall;
  }
  return undefined;
}
