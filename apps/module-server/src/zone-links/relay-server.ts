// The gRPC server of relayed endpoint connections: binds no port; each relay connection from a
// zone proxy is injected into it (grpc-js createConnectionInjector) and served by the gateway's
// own handlers, as on :17475. The TLS is the relay connection's (module server ↔ zone proxy);
// inside it are the endpoint's decrypted HTTP/2 bytes, so the server speaks plaintext HTTP/2.
import type { TLSSocket } from 'node:tls';
import { type sendUnaryData, Server, ServerCredentials, type ServerDuplexStream, type ServerUnaryCall, status, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { gatewayV1 as gateway } from '@dc/proto';
import { HealthImplementation } from 'grpc-health-check';
import { type RelayedConnection, relayedConnectionOf, type RelayedGateway } from './relayed-peer';

type StreamMethod = 'controlChannel' | 'sessionStream';
const GATEWAY = 'dc.gateway.v1.EndpointGatewayService';

export class RelayServer {
  private readonly server: Server;
  private readonly injector: ReturnType<Server['createConnectionInjector']>;

  constructor(gw: RelayedGateway) {
    // The same connection settings as the gateway's :17475.
    this.server = new Server({ 'grpc.keepalive_permit_without_calls': 1, 'grpc.keepalive_time_ms': 60_000, 'grpc.keepalive_timeout_ms': 20_000, 'grpc.max_concurrent_streams': 1000 });
    this.server.addService(gateway.EndpointGatewayServiceService, relayedHandlers(gw) as UntypedServiceImplementation);
    new HealthImplementation({ '': 'SERVING', [GATEWAY]: 'SERVING' }).addToServer(this.server);
    this.injector = this.server.createConnectionInjector(ServerCredentials.createInsecure());
  }

  /** Serves a relay connection (marked with markRelayedConnection) with the gateway. */
  serve(socket: TLSSocket): void {
    this.injector.injectConnection(socket);
  }

  close(): void {
    this.injector.destroy();
    this.server.forceShutdown();
  }
}

/** Ends every open call of a relayed connection with this status (the zone proxy revoked it). */
export function endRelayedCalls(connection: RelayedConnection, code: number, details: string): number {
  const calls = [...connection.calls.keys()];
  connection.calls.clear();
  for (const call of calls) call.emit('error', { code, details });
  if (calls.length > 0) connection.changed();
  return calls.length;
}

/**
 * The gateway's handlers behind the relay's own rules: only Enrol without a client
 * certificate (the zone proxy relays anonymous connections for it), and streaming calls kept
 * per connection so the connection's revocation can end them with a status.
 */
function relayedHandlers(gw: RelayedGateway): RelayedGateway {
  const anonymous = (c: RelayedConnection | undefined) =>
    c ? (c.peer.clientId ? undefined : `no client certificate was presented (through zone proxy "${c.peer.route}")`) : 'not a relayed connection';
  const stream = <Req, Res>(method: StreamMethod) => (call: ServerDuplexStream<Req, Res>) => {
    const c = relayedConnectionOf(call);
    const refusal = anonymous(c);
    if (refusal || !c) {
      call.emit('error', { code: status.UNAUTHENTICATED, details: refusal });
      return;
    }
    c.calls.set(call, method);
    const done = () => {
      if (c.calls.delete(call)) c.changed();
    };
    call.once('finish', done);
    call.once('cancelled', done);
    call.once('close', done);
    (gw[method] as (call: ServerDuplexStream<Req, Res>) => void)(call);
    c.changed();
  };
  return {
    enrol: (call, cb) => gw.enrol(call, cb),
    renewCertificate: (call: ServerUnaryCall<gateway.RenewCertificateRequest, gateway.RenewCertificateResponse>, cb: sendUnaryData<gateway.RenewCertificateResponse>) => {
      const refusal = anonymous(relayedConnectionOf(call));
      if (refusal) cb({ code: status.UNAUTHENTICATED, details: refusal });
      else gw.renewCertificate(call, cb);
    },
    controlChannel: stream('controlChannel'),
    sessionStream: stream('sessionStream'),
  };
}
