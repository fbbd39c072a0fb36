// The settings domain throws @dc/service-kit's DomainError classes (each carries its gRPC status;
// toServiceError maps them in one place); these helpers keep the wording of common cases uniform.
import { status } from '@grpc/grpc-js';
import { AlreadyExists, DomainError, NotFound } from '@dc/service-kit';

export {
  AlreadyExists,
  FailedPrecondition,
  InvalidArgument,
  NotFound,
  PermissionDenied,
  Unauthenticated,
  Unavailable,
  Unimplemented,
} from '@dc/service-kit';

/** `zone proxy "dmz-1" does not exist` */
export function notFound(what: string, key: string): NotFound {
  return new NotFound(`${what} "${key}" does not exist`);
}

/** `user "alice" already exists` */
export function alreadyExists(what: string, key: string): AlreadyExists {
  return new AlreadyExists(`${what} "${key}" already exists`);
}

/** Thrown when an optimistic-concurrency check fails (a stale revision): gRPC ABORTED. */
export class Aborted extends DomainError {
  readonly code = status.ABORTED;
}
