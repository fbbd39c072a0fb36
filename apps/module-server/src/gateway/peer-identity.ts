// Who is on the other end of a gateway call: the client certificate the endpoint presented,
// checked against our CA, its validity and the revocation list — with the precise reason when
// it is refused (SPEC 3.4: expired, revoked, unknown CA, clock skew).
import type { TLSSocket } from 'node:tls';
import { endpointIdOf, UNKNOWN_CA_ERRORS } from '@dc/zone-link';
import { normaliseSerial, type RevocationList } from '../enrolment/certificate-issuer';
import type { TlsFailureCause } from '../registry/endpoint-registry';
import type { RelayedPeer } from '../zone-links/relayed-peer';

export type PeerIdentity =
  | { readonly ok: true; readonly clientId: string; readonly serial: string; readonly notAfter: number }
  | {
      readonly ok: false;
      readonly cause: TlsFailureCause;
      readonly detail: string;
      /** The client id the certificate names, only when our CA's signature on it verified. */
      readonly clientId?: string;
    };

/** OpenSSL verification errors that still mean our CA signed the certificate. */
const SIGNED_BY_US_BUT = new Map<string, TlsFailureCause>([
  ['CERT_HAS_EXPIRED', 'EXPIRED'],
  ['CERT_NOT_YET_VALID', 'NOT_YET_VALID'],
]);
export function identifyPeer(socket: TLSSocket | undefined, revocation: RevocationList): PeerIdentity {
  if (!socket) return { ok: false, cause: 'NO_CERTIFICATE', detail: 'the call did not come over TLS' };
  const cert = socket.getPeerCertificate();
  if (!cert || !cert.raw) return { ok: false, cause: 'NO_CERTIFICATE', detail: 'no client certificate was presented' };
  const clientId = endpointIdOf(cert) || undefined;
  if (!socket.authorized) {
    const code = String(socket.authorizationError ?? 'UNKNOWN');
    const cause = SIGNED_BY_US_BUT.get(code);
    if (cause) {
      const when = cause === 'EXPIRED' ? `expired ${cert.valid_to}` : `not valid before ${cert.valid_from}`;
      return { ok: false, cause, detail: `client certificate ${when} (${code})`, clientId };
    }
    if (UNKNOWN_CA_ERRORS.has(code)) return { ok: false, cause: 'UNKNOWN_CA', detail: `client certificate not issued by our CA (${code})` };
    return { ok: false, cause: 'OTHER', detail: `client certificate refused (${code})` };
  }
  const serial = normaliseSerial(cert.serialNumber);
  if (!clientId) return { ok: false, cause: 'OTHER', detail: 'client certificate names no endpoint (no CN or urn:dc:endpoint: SAN)' };
  if (revocation.isRevoked(serial)) return { ok: false, cause: 'REVOKED', detail: `client certificate ${serial} is revoked`, clientId };
  return { ok: true, clientId, serial, notAfter: Date.parse(cert.valid_to) };
}

/** A call relayed by a zone proxy: the proxy verified the certificate; the revocation list is checked again here. */
export function identifyRelayedPeer(peer: RelayedPeer, revocation: RevocationList): PeerIdentity {
  if (!peer.clientId) return { ok: false, cause: 'NO_CERTIFICATE', detail: `no client certificate was presented (through zone proxy "${peer.route}")` };
  if (revocation.isRevoked(peer.serial)) return { ok: false, cause: 'REVOKED', detail: `client certificate ${peer.serial} is revoked`, clientId: peer.clientId };
  return { ok: true, clientId: peer.clientId, serial: normaliseSerial(peer.serial), notAfter: peer.notAfter };
}
