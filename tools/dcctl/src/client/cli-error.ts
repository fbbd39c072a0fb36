// Exit codes and the one place gRPC failures become operator-facing errors with a next step.
import { type ServiceError, status } from '@grpc/grpc-js';

/** dcctl's exit codes. */
export const EXIT = {
  OK: 0,
  /** The operation failed: the server said no, or the result is a failure (e.g. a diagnosis). */
  FAILED: 1,
  /** Bad command line. */
  USAGE: 2,
  /** Cannot connect, or the service is unavailable. */
  UNAVAILABLE: 3,
  /** Not logged in, bad token, or a permission missing. */
  AUTH: 4,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** Thrown by commands for anything the operator must see; `hint` says what to do next. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
    readonly hint?: string,
    /** The gRPC code, when the error came from a server. */
    readonly grpcCode?: string,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** Thrown for a bad command line value (exit 2). */
export function usageError(message: string, hint?: string): CliError {
  return new CliError(message, EXIT.USAGE, hint);
}

/** What a call was: for messages. */
export interface CallTarget {
  /** e.g. "settings" or "module server API". */
  readonly serviceLabel: string;
  readonly address: string;
  /** Full method, e.g. "dc.settings.v1.SetupService/GetSetupStatus". */
  readonly method: string;
  /** The SPEC 1.3 permission the rpc needs, e.g. "SETTINGS_READ". */
  readonly permission?: string;
}

function isServiceError(err: unknown): err is ServiceError {
  return typeof err === 'object' && err !== null && 'code' in err && typeof (err as ServiceError).code === 'number' && 'details' in err;
}

/** Turns a gRPC failure into a CliError whose message and hint tell the operator what to do. */
export function fromGrpcError(err: unknown, target: CallTarget): CliError {
  if (!isServiceError(err)) return new CliError(err instanceof Error ? err.message : String(err), EXIT.FAILED);
  const codeName = status[err.code] ?? String(err.code);
  const details = err.details || err.message;
  const where = `${target.serviceLabel} at ${target.address}`;
  switch (err.code) {
    case status.UNAVAILABLE:
      return new CliError(
        `cannot reach ${where}: ${details}`,
        EXIT.UNAVAILABLE,
        `check that the ${target.serviceLabel} is running (e.g. "npm start") and listening on ${target.address}, or pass its address with the matching flag (--api, --settings, --ca)`,
        codeName,
      );
    case status.DEADLINE_EXCEEDED:
      return new CliError(
        `${where} did not answer in time (${details})`,
        EXIT.UNAVAILABLE,
        `check that the ${target.serviceLabel} is running and not overloaded, or raise --timeout`,
        codeName,
      );
    case status.UNAUTHENTICATED:
      return new CliError(`${where} refused the token: ${details}`, EXIT.AUTH, 'log in with a valid token: dcctl login --token-file <file>', codeName);
    case status.PERMISSION_DENIED:
      return new CliError(
        `permission denied by ${where}: ${details}`,
        EXIT.AUTH,
        `${target.method} needs the ${target.permission ?? 'matching'} permission (SPEC 1.3): ask an administrator for a role that grants it, or dcctl login with another token`,
        codeName,
      );
    case status.UNIMPLEMENTED: {
      // Session requests are answered by the endpoint: there the endpoint's tools may be what lacks it.
      const viaEndpoint = target.method.startsWith('dc.moduleserver.v1.SessionService/') && !/\/(List|Get|Open|Close)Session/.test(target.method);
      return new CliError(
        `${target.method} is not implemented (UNIMPLEMENTED from ${where}): ${details}`,
        EXIT.FAILED,
        viaEndpoint
          ? 'the endpoint (or this module server build) does not offer this operation yet: check its tools version with dcctl endpoints show <endpoint>, and upgrade'
          : `this ${target.serviceLabel} build does not offer the operation yet; upgrade it, or check that the address points at the ${target.serviceLabel}`,
        codeName,
      );
    }
    case status.INVALID_ARGUMENT:
      return new CliError(`${details}`, EXIT.FAILED, 'fix the value named above and run the command again', codeName);
    case status.NOT_FOUND:
      return new CliError(`${details}`, EXIT.FAILED, 'check the name or id (the matching "list" command shows what exists)', codeName);
    case status.ALREADY_EXISTS:
      return new CliError(`${details}`, EXIT.FAILED, 'choose another name, or delete the existing one first', codeName);
    case status.FAILED_PRECONDITION:
      return new CliError(`${details}`, EXIT.FAILED, 'the server refused in the current state: see the message for what must change first', codeName);
    case status.ABORTED:
      return new CliError(`${details}`, EXIT.FAILED, 'someone else changed it meanwhile: show it again and retry', codeName);
    default:
      return new CliError(`${where} failed ${target.method} (${codeName}): ${details}`, EXIT.FAILED, undefined, codeName);
  }
}
