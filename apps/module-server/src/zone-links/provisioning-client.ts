// The module server's half of zone proxy provisioning (DESIGN flow 7): dial :17488 pinning the
// payload certificate, check the zone proxy's proof, have the CA issue its certificates for
// the CSRs it made, then send our proof with them. The secret never crosses the wire.
import { createHash, randomBytes, X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import { connect as tlsConnect, type PeerCertificate } from 'node:tls';
import { promisify } from 'node:util';
import { credentials, Metadata, type ServiceError, status } from '@grpc/grpc-js';
import { zoneProxyV1 as zp } from '@dc/proto';
import type { ZoneCertificateAuthority, ZoneProxyProvisioningMaterial } from './zone-proxy-directory';
import { provisionProof, proofMatches } from '@dc/zone-link';

/** Thrown when provisioning is refused in a way redialing will not fix (status Error). */
export class ProvisioningRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProvisioningRefused';
  }
}

/** Thrown when the zone proxy says it is provisioned already: go straight to the link. */
export class AlreadyProvisioned extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AlreadyProvisioned';
  }
}

export interface ProvisionOptions {
  readonly material: ZoneProxyProvisioningMaterial;
  readonly ca: ZoneCertificateAuthority;
  /** Where to dial :17488 (default: Module Server Target Hostname, port 17488). */
  readonly provisioningAddress?: string;
  readonly deadlineMs?: number;
}

/** SPEC 1.2: the provisioning port the zone proxy installer opens. */
export const PROVISIONING_PORT = 17488;

export async function provisionZoneProxy(o: ProvisionOptions): Promise<{ zoneProxyVersion: string }> {
  const { record, provisionSecret, payloadCertificatePem } = o.material;
  const pinned = new X509Certificate(payloadCertificatePem);
  const pinnedFingerprint = createHash('sha256').update(pinned.raw).digest('hex');
  if (record.payloadCertificateFingerprintSha256 && record.payloadCertificateFingerprintSha256 !== pinnedFingerprint) {
    throw new ProvisioningRefused('the payload certificate does not match the fingerprint in the zone proxy record');
  }
  let pinMismatch: string | undefined;
  const creds = credentials.createSsl(Buffer.from(payloadCertificatePem), null, null, {
    // Pinning: the exact payload certificate, whatever name the zone server answers to.
    checkServerIdentity: (_host: string, cert: PeerCertificate) => {
      const got = createHash('sha256').update(cert.raw).digest('hex');
      if (got === pinnedFingerprint) return undefined;
      pinMismatch = `the zone proxy presented certificate ${got.slice(0, 16)}…, not the provision payload's ${pinnedFingerprint.slice(0, 16)}… (re-run the installer? then delete and re-add the zone proxy)`;
      return new Error(pinMismatch);
    },
  });
  const address = o.provisioningAddress ?? `${hostForUri(record.moduleServerTargetHostname)}:${PROVISIONING_PORT}`;
  // Look at the certificate first: a TLS failure inside gRPC cannot tell "another certificate"
  // (needs a fresh payload: Error) from "not reachable yet" (retry).
  const presented = await presentedCertificateFingerprint(address, o.deadlineMs ?? 15_000);
  if (presented !== pinnedFingerprint) {
    throw new ProvisioningRefused(
      `pinned certificate mismatch: the zone proxy presented certificate ${presented.slice(0, 16)}…, not the provision payload's ${pinnedFingerprint.slice(0, 16)}… (was the installer re-run? then delete and re-add the zone proxy with the new payload)`,
    );
  }
  const client = new zp.ProvisioningServiceClient(address, creds, { 'grpc.max_reconnect_backoff_ms': 1000 });
  const deadline = () => ({ deadline: Date.now() + (o.deadlineMs ?? 15_000) });
  const call = <Req, Res>(name: 'beginProvisioning' | 'completeProvisioning', req: Req): Promise<Res> =>
    promisify((r: Req, cb: (e: ServiceError | null, v: Res) => void) =>
      (client[name] as unknown as (r: Req, md: Metadata, opts: object, cb: (e: ServiceError | null, v: Res) => void) => void).call(client, r, new Metadata(), deadline(), cb),
    )(req);
  const explain = (err: unknown): never => {
    if (pinMismatch) throw new ProvisioningRefused(`pinned certificate mismatch: ${pinMismatch}`);
    const e = err as ServiceError;
    if (e.code === status.FAILED_PRECONDITION && /already provisioned/.test(e.details)) throw new AlreadyProvisioned(e.details);
    if (e.code === status.PERMISSION_DENIED) throw new ProvisioningRefused(`the zone proxy refused our proof: ${e.details} — the pasted payload does not match the installed one`);
    throw err;
  };
  try {
    const clientNonce = randomBytes(32);
    const begun = await call<zp.BeginProvisioningRequest, zp.BeginProvisioningResponse>('beginProvisioning', { clientNonce, zoneProxyName: record.name }).catch(explain);
    const input = {
      provisioningId: begun.provisioningId,
      clientNonce,
      serverNonce: begun.serverNonce,
      endpointFacingCsrPem: begun.endpointFacingCsrPem,
      linkFacingCsrPem: begun.linkFacingCsrPem,
    };
    if (begun.serverNonce.length !== 32) throw new ProvisioningRefused(`the zone proxy sent a ${begun.serverNonce.length}-byte server nonce (32 required)`);
    if (!proofMatches(provisionProof(provisionSecret, 'server', input), begun.serverProof)) {
      throw new ProvisioningRefused('the zone proxy did not prove the provision secret (wrong secret: the pasted payload does not match the installed one, or a replayed answer)');
    }
    const names = (host: string, ip: string) => {
      const dns = isIP(host) ? [] : [host];
      const ips = [...new Set([...(isIP(host) ? [host] : []), ...(ip && ip !== '0.0.0.0' ? [ip] : [])])];
      return { dnsNames: dns, ipAddresses: ips };
    };
    const endpointFacing = await o.ca.issueZoneProxyCertificate({ facing: 'endpoint', zoneProxyName: record.name, csrPem: begun.endpointFacingCsrPem, ...names(record.endpointTargetHostname, record.endpointInboundIpAddress) });
    const linkFacing = await o.ca.issueZoneProxyCertificate({ facing: 'link', zoneProxyName: record.name, csrPem: begun.linkFacingCsrPem, ...names(record.moduleServerTargetHostname, record.moduleServerInboundIpAddress) });
    const revocation = await o.ca.revocationList();
    await call<zp.CompleteProvisioningRequest, zp.CompleteProvisioningResponse>('completeProvisioning', {
      provisioningId: begun.provisioningId,
      clientProof: provisionProof(provisionSecret, 'client', input),
      endpointFacingCertificateChainPem: endpointFacing.certificateChainPem,
      linkFacingCertificateChainPem: linkFacing.certificateChainPem,
      trustBundlePem: linkFacing.trustBundlePem,
      endpointInboundIpAddress: record.endpointInboundIpAddress,
      endpointInboundPort: record.endpointInboundPort,
      moduleServerInboundIpAddress: record.moduleServerInboundIpAddress,
      moduleServerInboundPort: record.moduleServerInboundPort,
      revocationList: { version: revocation.version, serials: revocation.serials },
    }).catch(explain);
    return { zoneProxyVersion: begun.version };
  } finally {
    client.close();
  }
}

export function hostForUri(host: string): string {
  return isIP(host) === 6 ? `[${host}]` : host;
}

/** SHA-256 of the certificate the server at `address` presents (no trust decision: pinning follows). */
function presentedCertificateFingerprint(address: string, timeoutMs: number): Promise<string> {
  const i = address.lastIndexOf(':');
  const host = address.slice(0, i).replace(/^\[|\]$/g, '');
  const port = Number(address.slice(i + 1));
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host, port, rejectUnauthorized: false, servername: isIP(host) ? undefined : host, ALPNProtocols: ['h2'] }, () => {
      const cert = socket.getPeerCertificate();
      socket.destroy();
      if (!cert?.raw) reject(new Error(`${address} presented no certificate`));
      else resolve(createHash('sha256').update(cert.raw).digest('hex'));
    });
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`TLS handshake with ${address} timed out`)));
    socket.once('error', (err) => reject(new Error(`cannot reach the zone proxy's provisioning port ${address}: ${err.message}`)));
  });
}
