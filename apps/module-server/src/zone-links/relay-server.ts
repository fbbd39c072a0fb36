// The gRPC server of relayed endpoint connections: binds no port; each relay connection from a
// zone proxy is injected into it (grpc-js createConnectionInjector) and served by the gateway's
// own handlers, as on :17475. The TLS is the relay connection's (module server ↔ zone proxy);
// inside it are the endpoint's decrypted HTTP/2 bytes, so the server speaks plaintext HTTP/2.
import type { TLSSocket } from 'node:tls';
import { type sendUnaryData, type ServerDuplexStream, type ServerUnaryCall, status, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { DESCRIPTOR_SET_BASE64, gatewayV1 as gateway } from '@dc/proto';
import { injectedGrpcServer, type InjectedGrpcServer } from '@dc/service-kit';
import { GATEWAY_SERVER_OPTIONS } from '../gateway/gateway-service';
import { type RelayedConnection, relayedConnectionOf, type RelayedGateway } from './relayed-peer';

type StreamMethod = 'controlChannel' | 'sessionStream';

export class RelayServer {
  private readonly grpc: InjectedGrpcServer;

  constructor(gw: RelayedGateway) {
    this.grpc = injectedGrpcServer({
      services: [{ definition: gateway.EndpointGatewayServiceService, implementation: relayedHandlers(gw) as UntypedServiceImplementation }],
      descriptorSetBase64: DESCRIPTOR_SET_BASE64,
      options: GATEWAY_SERVER_OPTIONS,
    });
    this.grpc.setServing(true);
  }

  /** Serves a relay connection (marked with markRelayedConnection) with the gateway. */
  serve(socket: TLSSocket): void {
    this.grpc.inject(socket);
  }

  close(): void {
    this.grpc.close();
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
