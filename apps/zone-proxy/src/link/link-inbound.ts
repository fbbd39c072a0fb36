// Module server inbound (:17487): one TLS listener for both kinds of connection the module
// server opens, told apart by ALPN — gRPC (h2: ZoneLinkService, health, reflection) and relay
// connections (dc-zone-relay/1: one relayed endpoint connection each). Both need the module
// server's client certificate (zone-link-service: linkPeerRefusal).
import type { TLSSocket } from 'node:tls';
import { DESCRIPTOR_SET_BASE64, type zoneProxyV1 as zp } from '@dc/proto';
import { injectedGrpcServer } from '@dc/service-kit';
import { RELAY_ALPN } from '@dc/zone-link';
import type { Logger } from 'pino';
import { type Listener, listenTls, type TlsMaterial } from '../tls-inbound';
import type { LinkHub } from './link-hub';
import { linkPeerRefusal, zoneLinkService } from './zone-link-service';

export async function startLinkInbound(deps: {
  host: string;
  port: number;
  tls: TlsMaterial;
  hub: LinkHub;
  status: () => zp.GetStatusResponse;
  isRevoked: (serial: string) => boolean;
  log: Logger;
}): Promise<Listener> {
  const grpc = injectedGrpcServer({ services: [zoneLinkService({ hub: deps.hub, status: deps.status, isRevoked: deps.isRevoked, log: deps.log })], descriptorSetBase64: DESCRIPTOR_SET_BASE64 });
  grpc.setServing(true);
  const onRelay = (socket: TLSSocket) => {
    const cert = socket.authorized ? socket.getPeerCertificate() : undefined;
    const refusal = linkPeerRefusal(cert?.raw ? cert : undefined, deps.isRevoked);
    if (refusal) {
      deps.log.warn({ remote: socket.remoteAddress, refusal }, 'relay connection refused');
      deps.hub.noteError(`relay connection from ${socket.remoteAddress} refused: ${refusal}`);
      socket.destroy();
      return;
    }
    deps.hub.acceptRelay(socket);
  };
  const listener = await listenTls({
    name: 'module-server-inbound',
    host: deps.host,
    port: deps.port,
    tls: deps.tls,
    alpn: ['h2', RELAY_ALPN],
    log: deps.log,
    onConnection: (socket) => (socket.alpnProtocol === RELAY_ALPN ? onRelay(socket) : grpc.inject(socket)),
  });
  return {
    port: listener.port,
    async shutdown(graceMs) {
      grpc.close();
      await listener.shutdown(graceMs);
    },
  };
}
