// @dc/zone-link: the pieces of the zone link protocol (dc.zoneproxy.v1) both ends share.
export { decodeRelayPreamble, encodeRelayPreamble, RELAY_ALPN, RELAY_PREAMBLE_BYTES } from './relay-connection';
export { endpointIdOf, UNKNOWN_CA_ERRORS } from './endpoint-identity';
export { proofMatches, type ProofInput, provisionProof, type ProofRole } from './provision-proof';
