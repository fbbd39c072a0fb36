// Relay connections (dc.zoneproxy.v1 ZoneLinkService, Relay comment): for each endpoint
// connection the zone proxy asks for, the module server opens a TLS connection to the link
// port with this ALPN protocol and writes the connection id first; the rest is the endpoint's
// decrypted byte stream, both ways.

/** ALPN protocol of relay connections on the Module Server Inbound Port (gRPC there uses h2). */
export const RELAY_ALPN = 'dc-zone-relay/1';

/** The connection id the module server writes first on a relay connection: 8 bytes, unsigned big-endian. */
export const RELAY_PREAMBLE_BYTES = 8;

export function encodeRelayPreamble(connectionId: number): Buffer {
  if (!Number.isSafeInteger(connectionId) || connectionId < 1) throw new RangeError(`relay connection id must be a positive safe integer (got ${connectionId})`);
  const b = Buffer.alloc(RELAY_PREAMBLE_BYTES);
  b.writeBigUInt64BE(BigInt(connectionId));
  return b;
}

/** The connection id from the first RELAY_PREAMBLE_BYTES bytes, or undefined when it is not a valid one. */
export function decodeRelayPreamble(bytes: Buffer): number | undefined {
  if (bytes.length < RELAY_PREAMBLE_BYTES) return undefined;
  const id = bytes.readBigUInt64BE(0);
  return id >= 1n && id <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(id) : undefined;
}
