// @dc/zone-link: the pieces of the zone link protocol (dc.zoneproxy.v1) both ends share.
export { ReceiveWindow, SendWindow } from './flow-window';
export { endpointIdOf, UNKNOWN_CA_ERRORS } from './endpoint-identity';
export { proofMatches, type ProofInput, provisionProof, type ProofRole } from './provision-proof';
