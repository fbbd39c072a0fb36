// The one wrapper every rpc goes through: bearer token → RBAC check (SPEC 1.3) → handler → errors mapped by toServiceError.
import type { handleServerStreamingCall, handleUnaryCall, Metadata, ServerUnaryCall, ServerWritableStream } from '@grpc/grpc-js';
import { toServiceError } from '@dc/service-kit';
import type { Logger } from 'pino';
import { PermissionDenied } from '../errors';
import type { AccessControl, Principal } from '../rbac/access-control';
import type { Permission } from '../rbac/permissions';
import type { ActorContext, SettingsStore } from '../store/settings-store';

/** What an rpc requires: a permission (or one of the alternatives), any valid token, or nothing. */
export type Access = { permission: Permission; or?: readonly Permission[] } | 'any-valid-token' | 'none';

export const READ = { permission: 'SETTINGS_READ' } as const;
export const WRITE = { permission: 'SETTINGS_WRITE' } as const;
export const READ_OR_CRON = { permission: 'SETTINGS_READ', or: ['CRON_EXEC'] } as const;
export const WRITE_OR_CRON = { permission: 'SETTINGS_WRITE', or: ['CRON_EXEC'] } as const;
export const CRON = { permission: 'CRON_EXEC' } as const;
export const LOGS = { permission: 'LOGS_READ' } as const;

export interface CallContext {
  principal: Principal | undefined;
  /** Who acts, for the audit log. */
  actor: ActorContext;
}

export interface CallDeps {
  accessControl: AccessControl;
  store: SettingsStore;
  log: Logger;
  /** Open server streams, ended at shutdown so it need not wait for the grace period. */
  openStreams: Set<() => void>;
}

/** `authorization: Bearer <token>` from call metadata. */
export function bearerToken(metadata: Metadata): string | undefined {
  const value = metadata.get('authorization')[0];
  if (typeof value !== 'string') return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(value);
  return m?.[1];
}

function authorize(deps: CallDeps, method: string, access: Access, metadata: Metadata, peer: string): CallContext {
  if (access === 'none') return { principal: undefined, actor: { name: 'anonymous', operation: method, peer } };
  const token = bearerToken(metadata);
  const principal = deps.accessControl.authenticate(token);
  const actor: ActorContext = { name: principal.user, principalId: principal.user, operation: method, peer };
  if (access !== 'any-valid-token') {
    const decision = deps.accessControl.check(token, access.permission, access.or ?? []);
    if (!decision.allowed) {
      // The audit event is written for refused calls too (who tried what).
      deps.store.recordChange(actor, 'rpc', method, 'event', undefined, undefined, { outcome: 'DENIED', detail: decision.reason });
      throw new PermissionDenied(`permission denied: ${decision.reason} (SPEC 1.3)`);
    }
  }
  return { principal, actor };
}

/** A unary rpc: authorize, run, answer; every failure leaves through toServiceError. */
export function unary<Req, Res>(
  deps: CallDeps,
  method: string,
  access: Access,
  handler: (request: Req, ctx: CallContext) => Res | Promise<Res>,
): handleUnaryCall<Req, Res> {
  return (call: ServerUnaryCall<Req, Res>, callback) => {
    void (async () => {
      try {
        const ctx = authorize(deps, method, access, call.metadata, call.getPeer());
        callback(null, await handler(call.request, ctx));
      } catch (err) {
        callback(toServiceError(err, deps.log.child({ method })));
      }
    })();
  };
}

/** A server-streaming rpc: authorize, then `start` writes and returns the function that stops it. */
export function serverStream<Req, Res>(
  deps: CallDeps,
  method: string,
  access: Access,
  start: (request: Req, ctx: CallContext, write: (message: Res) => void) => () => void,
): handleServerStreamingCall<Req, Res> {
  return (call: ServerWritableStream<Req, Res>) => {
    let stop: (() => void) | undefined;
    const end = () => {
      stop?.();
      stop = undefined;
      deps.openStreams.delete(finish);
    };
    const finish = () => {
      end();
      call.end();
    };
    deps.openStreams.add(finish);
    call.on('cancelled', end);
    call.on('close', end);
    try {
      const ctx = authorize(deps, method, access, call.metadata, call.getPeer());
      stop = start(call.request, ctx, (m) => {
        if (!call.cancelled) call.write(m);
      });
    } catch (err) {
      end();
      // grpc-js ends a server stream with this status when 'error' is emitted on it.
      call.emit('error', toServiceError(err, deps.log.child({ method })));
    }
  };
}
