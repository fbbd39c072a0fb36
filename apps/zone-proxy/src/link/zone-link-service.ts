// ZoneLinkService (:17487): the module server's Relay stream and GetStatus, over mutual TLS.
// Only a certificate of the module server (not an endpoint's or a zone proxy's) may link.
import { type ServerDuplexStream, type ServerUnaryCall, type sendUnaryData, status } from '@grpc/grpc-js';
import { zoneProxyV1 as zp } from '@dc/proto';
import type { GrpcServiceBinding } from '@dc/service-kit';
import type { Logger } from 'pino';
import { normaliseSerial } from '../endpoint-inbound/endpoint-inbound';
import type { LinkHub } from './link-hub';

/** Why a peer certificate may not link, or undefined when it may. */
export function linkPeerRefusal(cert: { subjectaltname?: string; serialNumber?: string } | undefined, isRevoked: (serial: string) => boolean): string | undefined {
  if (!cert) return 'no client certificate';
  const san = cert.subjectaltname ?? '';
  if (/URI:urn:dc:(endpoint|zone-proxy):/.test(san)) return 'an endpoint or zone proxy certificate cannot open the module server link';
  if (cert.serialNumber && isRevoked(normaliseSerial(cert.serialNumber))) return 'client certificate revoked';
  return undefined;
}

export function zoneLinkService(deps: { hub: LinkHub; status: () => zp.GetStatusResponse; isRevoked: (serial: string) => boolean; log: Logger }): GrpcServiceBinding {
  const implementation: zp.ZoneLinkServiceServer = {
    relay(call: ServerDuplexStream<zp.RelayRequest, zp.RelayResponse>) {
      const refusal = linkPeerRefusal(call.getAuthContext().sslPeerCertificate, deps.isRevoked);
      if (refusal) {
        deps.log.warn({ remote: call.getPeer(), refusal }, 'module server link refused');
        deps.hub.noteError(`link from ${call.getPeer()} refused: ${refusal}`);
        call.emit('error', { code: status.PERMISSION_DENIED, details: refusal });
        return;
      }
      deps.hub.attach(call);
    },
    getStatus(call: ServerUnaryCall<zp.GetStatusRequest, zp.GetStatusResponse>, cb: sendUnaryData<zp.GetStatusResponse>) {
      const refusal = linkPeerRefusal(call.getAuthContext().sslPeerCertificate, deps.isRevoked);
      if (refusal) cb({ code: status.PERMISSION_DENIED, details: refusal });
      else cb(null, deps.status());
    },
  };
  return { definition: zp.ZoneLinkServiceService, implementation };
}
