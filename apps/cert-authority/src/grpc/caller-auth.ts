// Who is calling and may they: service identities by mutual TLS, or bearer tokens checked by settings.
import { X509Certificate } from 'node:crypto';
import type { Metadata, ServerUnaryCall } from '@grpc/grpc-js';
import { PermissionDenied, Unauthenticated } from '@dc/service-kit';
import { commonV1 } from '@dc/proto';
import type { Clock } from '../clock';
import { parseIdentityUri } from '../issuance/profiles';
import type { CertificateRecord } from '../store/ca-store';

export type Permission = commonV1.Permission;
export const Permission = commonV1.Permission;

/** The authenticated caller, for the audit lines of changes. */
export interface Caller {
  readonly kind: 'service' | 'token' | 'anonymous';
  readonly name: string;
}

export const ANONYMOUS: Caller = { kind: 'anonymous', name: '' };

/** Checks a bearer token for a permission; the settings service answers (RbacService.CheckPermission). */
export interface BearerTokenChecker {
  check(token: string, permission: Permission, method: string): Promise<{ allowed: boolean; principal: string; denialReason: string; cacheTtlMs: number }>;
}

export interface CallerAuthOptions {
  /** Service names whose identity certificates may call (SERVICE certificates from this CA). */
  readonly callers: readonly string[];
  /** Looks a certificate up by serial (undefined when unknown). */
  readonly findCertificate: (serial: string) => CertificateRecord | undefined;
  readonly bearer?: BearerTokenChecker;
  readonly clock: Clock;
}

export class CallerAuth {
  private readonly cache = new Map<string, { allowed: boolean; principal: string; reason: string; until: number }>();

  constructor(private readonly opts: CallerAuthOptions) {}

  /**
   * Authenticates the caller and checks the permission. A verified client certificate wins;
   * otherwise a bearer token; otherwise UNAUTHENTICATED.
   */
  async authorise(call: Pick<ServerUnaryCall<unknown, unknown>, 'getAuthContext' | 'metadata'>, permission: Permission, method: string): Promise<Caller> {
    // grpc-js hands over the peer certificate only when TLS verified it against our trust bundle.
    const peer = call.getAuthContext()?.sslPeerCertificate;
    if (peer?.raw) return this.byCertificate(new X509Certificate(peer.raw), method);
    const token = bearerToken(call.metadata);
    if (token) return this.byToken(token, permission, method);
    throw new Unauthenticated(
      `${method} needs a caller identity: a service certificate from this CA (mutual TLS) or "authorization: Bearer <token>"`,
    );
  }

  private byCertificate(cert: X509Certificate, method: string): Caller {
    const serial = cert.serialNumber.toLowerCase().replace(/^0+(?=.)/, '');
    const record = this.opts.findCertificate(serial) ?? this.opts.findCertificate(cert.serialNumber.toLowerCase());
    if (!record || record.certificatePem.trim() !== cert.toString().trim()) {
      throw new Unauthenticated(`client certificate ${serial} was not issued by this CA`);
    }
    if (record.revocation) throw new Unauthenticated(`client certificate ${serial} was revoked at ${record.revocation.revokedAt.toISOString()}`);
    const identity = record.altNames.uris.map(parseIdentityUri).find((u) => u?.kind === 'service');
    if (record.kind !== 'service' || !identity) {
      throw new PermissionDenied(`${method}: the client certificate (${record.kind} "${record.commonName}") is not a service identity`);
    }
    if (!this.opts.callers.includes(identity.name)) {
      throw new PermissionDenied(`${method}: service "${identity.name}" is not among the CA's callers (${this.opts.callers.join(', ')})`);
    }
    return { kind: 'service', name: identity.name };
  }

  private async byToken(token: string, permission: Permission, method: string): Promise<Caller> {
    if (!this.opts.bearer) {
      throw new Unauthenticated(`${method}: bearer tokens are not accepted here (no settings address configured); use a service certificate`);
    }
    const key = `${permission}\u0000${token}`;
    const now = this.opts.clock().getTime();
    let answer = this.cache.get(key);
    if (!answer || answer.until <= now) {
      const r = await this.opts.bearer.check(token, permission, method);
      answer = { allowed: r.allowed, principal: r.principal, reason: r.denialReason, until: now + r.cacheTtlMs };
      if (r.cacheTtlMs > 0) this.cache.set(key, answer);
    }
    if (!answer.allowed) {
      if (!answer.principal) throw new Unauthenticated(`${method}: bearer token refused (${answer.reason || 'unknown token'})`);
      throw new PermissionDenied(`${method} needs ${commonV1.permissionToJSON(permission)}: ${answer.reason || 'not granted'}`);
    }
    return { kind: 'token', name: answer.principal };
  }
}

function bearerToken(metadata: Metadata): string | undefined {
  const value = metadata.get('authorization')[0];
  if (typeof value !== 'string') return undefined;
  const m = /^Bearer\s+(\S+)$/i.exec(value.trim());
  return m?.[1];
}
