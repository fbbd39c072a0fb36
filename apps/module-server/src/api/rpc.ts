// Handler wrappers for the module API: authorise the one permission, run, map errors (in one place).
import type { handleServerStreamingCall, handleUnaryCall, Metadata, ServerUnaryCall, ServerWritableStream } from '@grpc/grpc-js';
import { toServiceError } from '@dc/service-kit';
import type { Logger } from 'pino';
import { authorize, type Permission, type PermissionChecker, type Principal } from './permission-checker';

export interface RpcContext {
  readonly principal: Principal;
  readonly metadata: Metadata;
  /** Resolves when the caller cancels (server streams). */
  readonly cancelled: Promise<void>;
  isCancelled(): boolean;
}

export function makeRpc(checker: PermissionChecker, log: Logger) {
  return {
    unary<Req, Res>(method: string, permission: Permission, fn: (req: Req, ctx: RpcContext) => Res | Promise<Res>): handleUnaryCall<Req, Res> {
      return (call: ServerUnaryCall<Req, Res>, callback) => {
        authorize(checker, call.metadata, permission, method)
          .then((principal) => fn(call.request, { principal, metadata: call.metadata, cancelled: new Promise(() => {}), isCancelled: () => call.cancelled }))
          .then(
            (res) => callback(null, res),
            (err: unknown) => callback(toServiceError(err, log)),
          );
      };
    },
    stream<Req, Res>(method: string, permission: Permission, fn: (req: Req, ctx: RpcContext) => AsyncIterable<Res>): handleServerStreamingCall<Req, Res> {
      return (call: ServerWritableStream<Req, Res>) => {
        let cancelled = false;
        const cancelledP = new Promise<void>((resolve) =>
          call.on('cancelled', () => {
            cancelled = true;
            resolve();
          }),
        );
        (async () => {
          const principal = await authorize(checker, call.metadata, permission, method);
          for await (const item of fn(call.request, { principal, metadata: call.metadata, cancelled: cancelledP, isCancelled: () => cancelled })) {
            if (cancelled) return;
            if (!call.write(item)) await new Promise<void>((r) => call.once('drain', r));
          }
          call.end();
        })().catch((err: unknown) => {
          if (!cancelled) call.emit('error', toServiceError(err, log));
        });
      };
    },
  };
}
