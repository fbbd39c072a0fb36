// Bearer tokens are checked by the settings service (RbacService.CheckPermission, CRON_EXEC as alternative).
import { type ChannelCredentials, type ChannelOptions, Metadata } from '@grpc/grpc-js';
import { Unavailable } from '@dc/service-kit';
import { commonV1, settingsV1 } from '@dc/proto';
import type { BearerTokenChecker, Permission } from './caller-auth';

export function settingsPermissionChecker(opts: {
  address: string;
  credentials: ChannelCredentials;
  channelOptions?: ChannelOptions;
  timeoutMs?: number;
}): BearerTokenChecker & { close(): void } {
  const client = new settingsV1.RbacServiceClient(opts.address, opts.credentials, opts.channelOptions);
  return {
    check(token: string, permission: Permission, method: string) {
      const request: settingsV1.CheckPermissionRequest = {
        token,
        permission,
        alternatives: permission === commonV1.Permission.PERMISSION_CRON_EXEC ? [] : [commonV1.Permission.PERMISSION_CRON_EXEC],
        method,
      };
      return new Promise((resolve, reject) => {
        client.checkPermission(request, new Metadata(), { deadline: Date.now() + (opts.timeoutMs ?? 5000) }, (err, res) => {
          if (err || !res) {
            reject(new Unavailable(`cannot check the bearer token with settings at ${opts.address}: ${err?.details ?? 'no answer'}`));
            return;
          }
          resolve({
            allowed: res.allowed,
            principal: res.principal?.name ?? res.principal?.principalId ?? '',
            denialReason: res.denialReason,
            cacheTtlMs: res.cacheTtl ? res.cacheTtl.seconds * 1000 + Math.floor(res.cacheTtl.nanos / 1e6) : 0,
          });
        });
      });
    },
    close: () => client.close(),
  };
}
