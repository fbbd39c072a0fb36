// Who is on the other end of a gateway call relayed by a zone proxy (SPEC 1.4.6: "to the
// broker an endpoint behind a zone proxy is the same as a direct one, except that its route is
// shown"). The zone proxy relays the endpoint's connection as bytes; the module server serves
// it with the gateway's handlers over a relay connection, which carries the identity the
// proxy's TLS handshake verified.
import type { TLSSocket } from 'node:tls';
import type { gatewayV1 as gateway } from '@dc/proto';
import { tlsSocketOf } from '@dc/service-kit';

/** Who is on the other end of a relayed call, verified by the zone proxy's TLS handshake. */
export interface RelayedPeer {
  /** Empty for an anonymous connection (Enrol only). */
  readonly clientId: string;
  /** Lowercase hex without leading zeros. */
  readonly serial: string;
  readonly notAfter: number;
  readonly fingerprintSha256: string;
  /** The endpoint's address as the zone proxy saw it, "ip:port". */
  readonly remoteAddress: string;
  /** The route: the zone proxy's name. */
  readonly route: string;
  readonly zoneProxyId: string;
}

/** The gateway's handlers, the same the direct :17475 server runs. */
export type RelayedGateway = Pick<gateway.EndpointGatewayServiceServer, 'enrol' | 'renewCertificate' | 'controlChannel' | 'sessionStream'>;

/** One relayed endpoint connection: its identity and the streaming calls open on it. */
export interface RelayedConnection {
  readonly peer: RelayedPeer;
  /** Open ControlChannel / SessionStream calls, so a revocation can end them with a status. */
  readonly calls: Map<StatusEndable, 'controlChannel' | 'sessionStream'>;
  /** Told when a call opens or ends (activity). */
  readonly changed: () => void;
}

/** A grpc-js server stream: emit('error', status) ends it with that status. */
export interface StatusEndable {
  emit(event: 'error', status: { code: number; details: string }): boolean;
}

const CONNECTION = Symbol('dc.module-server.zone-links.relayed-connection');
type RelaySocket = TLSSocket & { [CONNECTION]?: RelayedConnection };

/** Marks a relay connection's socket with what it carries (before it is served). */
export function markRelayedConnection(socket: TLSSocket, connection: RelayedConnection): void {
  (socket as RelaySocket)[CONNECTION] = connection;
}

/** The relayed connection a gateway call came over, or undefined for a direct call. */
export function relayedConnectionOf(call: object): RelayedConnection | undefined {
  // The HTTP/2 session hands out a proxy of its socket that forwards property reads to it.
  return (tlsSocketOf(call) as RelaySocket | undefined)?.[CONNECTION];
}

/** The verified identity of a relayed call, or undefined for a direct one. The gateway's authenticate uses it. */
export function relayedPeerOf(call: object): RelayedPeer | undefined {
  return relayedConnectionOf(call)?.peer;
}
