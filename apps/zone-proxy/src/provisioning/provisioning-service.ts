// ProvisioningService (:17488): the zone proxy's half of provisioning (DESIGN flow 7). It proves
// it holds the provision secret, checks the module server's proof, and installs the
// certificates the CA issued for the CSRs it made — keys never leave the zone server.
import { createPrivateKey, generateKeyPairSync, randomBytes, randomUUID, X509Certificate } from 'node:crypto';
import type { ServerUnaryCall, sendUnaryData } from '@grpc/grpc-js';
import { zoneProxyV1 as zp } from '@dc/proto';
import { FailedPrecondition, type GrpcServiceBinding, InvalidArgument, NotFound, PermissionDenied, toServiceError } from '@dc/service-kit';
import forge from 'node-forge';
import type { Logger } from 'pino';
import type { InstalledPayload } from '../provision-payload/provision-payload';
import type { ProvisionedState } from './provisioned-state';
import { proofMatches, provisionProof } from '@dc/zone-link';

/** An attempt must be completed this soon after BeginProvisioning (dc.zoneproxy.v1). */
export const ATTEMPT_TTL_MS = 5 * 60_000;
const NONCE_BYTES = 32;
const NAME_RE = /^[A-Za-z0-9._-]{1,64}$/;

export interface ProvisioningDeps {
  /** The payload currently installed (read per call: a re-run installer invalidates the old one). */
  readonly payload: () => InstalledPayload | undefined;
  /** The payload this listener's TLS certificate came from. */
  readonly servedFingerprintSha256: string;
  readonly isProvisioned: () => boolean;
  /** Starts :17486 and :17487 with the new material and saves it; throws when they cannot listen. */
  readonly install: (state: ProvisionedState) => Promise<void>;
  readonly clock: { now(): number };
  readonly log: Logger;
  readonly version: string;
}

interface Attempt {
  readonly id: string;
  readonly zoneProxyName: string;
  readonly clientNonce: Buffer;
  readonly serverNonce: Buffer;
  readonly endpointFacing: { csrPem: string; keyPem: string };
  readonly linkFacing: { csrPem: string; keyPem: string };
  readonly payloadFingerprint: string;
  readonly startedAt: number;
}

export class Provisioning {
  private readonly attempts = new Map<string, Attempt>();
  /** Client nonces seen within the attempt lifetime: a replayed BeginProvisioning is refused. */
  private readonly seenNonces = new Map<string, number>();

  constructor(private readonly deps: ProvisioningDeps) {}

  begin(req: zp.BeginProvisioningRequest): zp.BeginProvisioningResponse {
    this.expire();
    const payload = this.currentPayload();
    if (this.deps.isProvisioned()) {
      throw new FailedPrecondition('this zone proxy is already provisioned; re-run "zone-proxy install" on the zone server to provision it again');
    }
    if (req.clientNonce.length !== NONCE_BYTES) throw new InvalidArgument('client_nonce', `must be ${NONCE_BYTES} random bytes`, `${req.clientNonce.length} bytes`);
    if (!NAME_RE.test(req.zoneProxyName)) throw new InvalidArgument('zone_proxy_name', '1-64 characters: letters, digits, "-", "_", "."', req.zoneProxyName);
    const nonceKey = Buffer.from(req.clientNonce).toString('hex');
    if (this.seenNonces.has(nonceKey)) throw new InvalidArgument('client_nonce', 'was already used (replayed BeginProvisioning refused)', 'a nonce seen before');
    this.seenNonces.set(nonceKey, this.deps.clock.now());

    const attempt: Attempt = {
      id: randomUUID(),
      zoneProxyName: req.zoneProxyName,
      clientNonce: Buffer.from(req.clientNonce),
      serverNonce: randomBytes(NONCE_BYTES),
      endpointFacing: keyAndCsr(`${req.zoneProxyName} endpoint-facing`),
      linkFacing: keyAndCsr(`${req.zoneProxyName} link-facing`),
      payloadFingerprint: payload.fingerprintSha256,
      startedAt: this.deps.clock.now(),
    };
    this.attempts.set(attempt.id, attempt);
    this.deps.log.info({ zoneProxyName: attempt.zoneProxyName, provisioningId: attempt.id }, 'provisioning begun');
    return {
      provisioningId: attempt.id,
      serverNonce: attempt.serverNonce,
      endpointFacingCsrPem: attempt.endpointFacing.csrPem,
      linkFacingCsrPem: attempt.linkFacing.csrPem,
      serverProof: provisionProof(payload.secret, 'server', proofInput(attempt)),
      version: this.deps.version,
    };
  }

  async complete(req: zp.CompleteProvisioningRequest): Promise<zp.CompleteProvisioningResponse> {
    this.expire();
    const attempt = this.attempts.get(req.provisioningId);
    // One use only, whatever the outcome: a replayed or guessed completion finds nothing.
    this.attempts.delete(req.provisioningId);
    if (!attempt) throw new NotFound(`provisioning_id "${req.provisioningId}" is unknown, used or older than 5 minutes; begin again`);
    const payload = this.currentPayload();
    if (payload.fingerprintSha256 !== attempt.payloadFingerprint) throw new FailedPrecondition('the provision payload was regenerated during provisioning; begin again');
    const expected = provisionProof(payload.secret, 'client', proofInput(attempt));
    if (!proofMatches(expected, req.clientProof)) {
      this.deps.log.warn({ zoneProxyName: attempt.zoneProxyName, provisioningId: attempt.id }, 'provisioning refused: wrong client proof');
      throw new PermissionDenied('client_proof does not prove the provision secret (wrong secret, or the payload was regenerated)');
    }
    if (this.deps.isProvisioned()) throw new FailedPrecondition('this zone proxy is already provisioned');
    const endpointFacing = checkIssued('endpoint_facing_certificate_chain_pem', req.endpointFacingCertificateChainPem, attempt.endpointFacing.keyPem, req.trustBundlePem);
    const linkFacing = checkIssued('link_facing_certificate_chain_pem', req.linkFacingCertificateChainPem, attempt.linkFacing.keyPem, req.trustBundlePem);
    const state: ProvisionedState = {
      zoneProxyName: attempt.zoneProxyName,
      provisionedAt: new Date(this.deps.clock.now()).toISOString(),
      payloadFingerprintSha256: payload.fingerprintSha256,
      endpointFacing: { certificateChainPem: endpointFacing, privateKeyPem: attempt.endpointFacing.keyPem },
      linkFacing: { certificateChainPem: linkFacing, privateKeyPem: attempt.linkFacing.keyPem },
      trustBundlePem: req.trustBundlePem,
      revocation: { version: req.revocationList?.version ?? 0, serials: req.revocationList?.serials ?? [] },
      endpointInbound: { host: checkIp('endpoint_inbound_ip_address', req.endpointInboundIpAddress), port: checkPort('endpoint_inbound_port', req.endpointInboundPort, 17486) },
      moduleServerInbound: {
        host: checkIp('module_server_inbound_ip_address', req.moduleServerInboundIpAddress),
        port: checkPort('module_server_inbound_port', req.moduleServerInboundPort, 17487),
      },
    };
    await this.deps.install(state);
    this.deps.log.info({ zoneProxyName: state.zoneProxyName, endpointInbound: state.endpointInbound, moduleServerInbound: state.moduleServerInbound }, 'zone proxy provisioned');
    return { listening: true };
  }

  private currentPayload(): InstalledPayload {
    const payload = this.deps.payload();
    if (!payload) throw new FailedPrecondition('no provision payload: run "zone-proxy install" on the zone server');
    if (payload.fingerprintSha256 !== this.deps.servedFingerprintSha256) {
      throw new FailedPrecondition('the provision payload was regenerated since the zone proxy started; restart the zone proxy service');
    }
    return payload;
  }

  private expire(): void {
    const now = this.deps.clock.now();
    for (const [id, a] of this.attempts) if (now - a.startedAt > ATTEMPT_TTL_MS) this.attempts.delete(id);
    for (const [n, at] of this.seenNonces) if (now - at > 2 * ATTEMPT_TTL_MS) this.seenNonces.delete(n);
  }
}

function proofInput(a: Attempt) {
  return { provisioningId: a.id, clientNonce: a.clientNonce, serverNonce: a.serverNonce, endpointFacingCsrPem: a.endpointFacing.csrPem, linkFacingCsrPem: a.linkFacing.csrPem };
}

function keyAndCsr(commonName: string): { csrPem: string; keyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const csr = forge.pki.createCertificationRequest();
  csr.publicKey = forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }).toString());
  csr.setSubject([{ name: 'commonName', value: commonName }]);
  csr.sign(forge.pki.privateKeyFromPem(keyPem), forge.md.sha256.create());
  return { csrPem: forge.pki.certificationRequestToPem(csr), keyPem };
}

const PEM_CERT_RE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

export function splitPemCertificates(pem: string): X509Certificate[] {
  return (pem.match(PEM_CERT_RE) ?? []).map((p) => new X509Certificate(p));
}

/** The chain's leaf must carry our CSR's key and chain up to a root of the trust bundle. */
function checkIssued(field: string, chainPem: string, keyPem: string, trustBundlePem: string): string {
  let chain: X509Certificate[];
  let roots: X509Certificate[];
  try {
    chain = splitPemCertificates(chainPem);
    roots = splitPemCertificates(trustBundlePem);
  } catch (err) {
    throw new InvalidArgument(field, `must be PEM certificates (${(err as Error).message})`);
  }
  if (chain.length === 0) throw new InvalidArgument(field, 'must hold the issued certificate, PEM', '');
  if (roots.length === 0) throw new InvalidArgument('trust_bundle_pem', 'must hold at least one CA root, PEM', '');
  const leaf = chain[0]!;
  if (!leaf.checkPrivateKey(createPrivateKey(keyPem))) throw new InvalidArgument(field, 'was not issued for the CSR this zone proxy made (public key differs)');
  let current = leaf;
  const pool = [...chain.slice(1), ...roots];
  for (let depth = 0; depth < 5; depth++) {
    if (roots.some((r) => r.fingerprint256 === current.fingerprint256)) return chainPem;
    const issuer = pool.find((c) => current.checkIssued(c) && current.verify(c.publicKey));
    if (!issuer) break;
    if (roots.includes(issuer)) return chainPem;
    current = issuer;
  }
  throw new InvalidArgument(field, 'does not chain up to a root of trust_bundle_pem');
}

function checkIp(field: string, value: string): string {
  if (!/^(\d{1,3})(\.\d{1,3}){3}$/.test(value) || value.split('.').some((o) => Number(o) > 255)) {
    throw new InvalidArgument(field, 'must be an IPv4 address to bind (SPEC 1.4.6)', value);
  }
  return value;
}

function checkPort(field: string, value: number, dflt: number): number {
  if (value === 0) return dflt;
  if (!Number.isInteger(value) || value < 1 || value > 65535) throw new InvalidArgument(field, 'must be from 1 to 65535 (0 = default)', value);
  return value;
}

/** The gRPC adapter: errors become statuses in one place (toServiceError). */
export function provisioningService(p: Provisioning, log: Logger): GrpcServiceBinding {
  const implementation: zp.ProvisioningServiceServer = {
    beginProvisioning(call: ServerUnaryCall<zp.BeginProvisioningRequest, zp.BeginProvisioningResponse>, cb: sendUnaryData<zp.BeginProvisioningResponse>) {
      try {
        cb(null, p.begin(call.request));
      } catch (err) {
        cb(toServiceError(err, log));
      }
    },
    completeProvisioning(call: ServerUnaryCall<zp.CompleteProvisioningRequest, zp.CompleteProvisioningResponse>, cb: sendUnaryData<zp.CompleteProvisioningResponse>) {
      p.complete(call.request).then(
        (r) => cb(null, r),
        (err: unknown) => cb(toServiceError(err, log)),
      );
    },
  };
  return { definition: zp.ProvisioningServiceService, implementation };
}
