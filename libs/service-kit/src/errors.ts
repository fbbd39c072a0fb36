// Domain errors carry their gRPC status; toServiceError is the one place they become statuses.
import { Metadata, type ServiceError, status } from '@grpc/grpc-js';
import type { Logger } from 'pino';

/** Base of every error a domain throws on purpose; its message is safe to show to the caller. */
export abstract class DomainError extends Error {
  abstract readonly code: status;
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/**
 * Thrown when a request field breaks a rule. Message: `fqdn "exa mple.com": label "exa mple"
 * is not a valid DNS label (...)`: the field, the value and the rule.
 */
export class InvalidArgument extends DomainError {
  readonly code = status.INVALID_ARGUMENT;
  constructor(
    readonly field: string,
    readonly rule: string,
    readonly value?: unknown,
  ) {
    super(value === undefined ? `${field}: ${rule}` : `${field} ${formatValue(value)}: ${rule}`);
  }
}
/** Thrown when the named thing does not exist. */
export class NotFound extends DomainError {
  readonly code = status.NOT_FOUND;
}
/** Thrown when the thing to create exists already. */
export class AlreadyExists extends DomainError {
  readonly code = status.ALREADY_EXISTS;
}
/** Thrown when the system is not in a state that allows the operation (say which, and what to do). */
export class FailedPrecondition extends DomainError {
  readonly code = status.FAILED_PRECONDITION;
}
/** Thrown when the caller is known but lacks the permission the call needs (SPEC 1.3). */
export class PermissionDenied extends DomainError {
  readonly code = status.PERMISSION_DENIED;
}
/** Thrown when the caller presented no credential, or one that is unknown, expired or revoked. */
export class Unauthenticated extends DomainError {
  readonly code = status.UNAUTHENTICATED;
}
/** Thrown when a dependency (another service, an endpoint) cannot be reached right now. */
export class Unavailable extends DomainError {
  readonly code = status.UNAVAILABLE;
}
/** Thrown when a limit is reached (queue full, too many sessions). */
export class ResourceExhausted extends DomainError {
  readonly code = status.RESOURCE_EXHAUSTED;
}
/** Thrown when the operation did not complete in time. */
export class DeadlineExceeded extends DomainError {
  readonly code = status.DEADLINE_EXCEEDED;
}
/** Thrown when the operation is deliberately not offered (e.g. updating a zone proxy record). */
export class Unimplemented extends DomainError {
  readonly code = status.UNIMPLEMENTED;
}

function formatValue(value: unknown): string {
  const text = typeof value === 'string' ? JSON.stringify(value) : JSON.stringify(value) ?? String(value);
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

/**
 * Maps anything thrown by a handler to a gRPC status. Domain errors keep their code and message;
 * errors that already carry a gRPC code (from a downstream call) keep it; anything else is
 * INTERNAL with a generic message — the details (SQL, paths, keys) go to the log only.
 */
export function toServiceError(err: unknown, log?: Logger): Partial<ServiceError> {
  if (err instanceof DomainError) return { code: err.code, details: err.message, metadata: new Metadata() };
  const grpcErr = err as Partial<ServiceError> | undefined;
  if (grpcErr && typeof grpcErr.code === 'number' && typeof grpcErr.details === 'string') {
    return { code: grpcErr.code, details: grpcErr.details, metadata: new Metadata() };
  }
  log?.error({ err }, 'request failed with an unexpected error');
  return { code: status.INTERNAL, details: 'internal error; see the service log', metadata: new Metadata() };
}
