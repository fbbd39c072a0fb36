// Test support: typed dc.settings.v1 clients for a running settings process, with the bearer token per call.
import { type ChannelCredentials, type Client, credentials, type handleUnaryCall, Metadata, type ServiceError } from '@grpc/grpc-js';
import { settingsV1 } from '@dc/proto';

type ReqOf<H> = H extends handleUnaryCall<infer Req, infer _Res> ? Req : never;
type ResOf<H> = H extends handleUnaryCall<infer _Req, infer Res> ? Res : never;

/** A client plus `call(method, request, token)` typed by the service's server interface. */
function typed<S, C extends Client>(ctor: new (address: string, creds: ChannelCredentials) => C, address: string, creds: ChannelCredentials) {
  const client = new ctor(address, creds);
  return {
    client,
    call<M extends keyof S & string>(method: M, request: ReqOf<S[M]>, token?: string): Promise<ResOf<S[M]>> {
      const md = new Metadata();
      if (token) md.set('authorization', `Bearer ${token}`);
      const fn = (client as unknown as Record<string, (r: unknown, m: Metadata, cb: (e: ServiceError | null, v: ResOf<S[M]>) => void) => void>)[method];
      return new Promise((resolve, reject) => fn.call(client, request, md, (err, res) => (err ? reject(err) : resolve(res))));
    },
  };
}

/** The gRPC status code a call failed with (0 when it succeeded). */
export async function codeOf(p: Promise<unknown>): Promise<number> {
  try {
    await p;
    return 0;
  } catch (err) {
    return (err as ServiceError).code;
  }
}

/** Clients for every service; plaintext unless TLS credentials are given. */
export function settingsClients(address: string, creds: ChannelCredentials = credentials.createInsecure()) {
  const clients = {
    setup: typed<settingsV1.SetupServiceServer, settingsV1.SetupServiceClient>(settingsV1.SetupServiceClient, address, creds),
    connection: typed<settingsV1.ConnectionSettingsServiceServer, settingsV1.ConnectionSettingsServiceClient>(settingsV1.ConnectionSettingsServiceClient, address, creds),
    actionGroup: typed<settingsV1.ActionGroupServiceServer, settingsV1.ActionGroupServiceClient>(settingsV1.ActionGroupServiceClient, address, creds),
    policy: typed<settingsV1.PolicyServiceServer, settingsV1.PolicyServiceClient>(settingsV1.PolicyServiceClient, address, creds),
    zoneProxies: typed<settingsV1.ZoneProxyServiceServer, settingsV1.ZoneProxyServiceClient>(settingsV1.ZoneProxyServiceClient, address, creds),
    rbac: typed<settingsV1.RbacServiceServer, settingsV1.RbacServiceClient>(settingsV1.RbacServiceClient, address, creds),
    recorder: typed<settingsV1.RecorderConfigServiceServer, settingsV1.RecorderConfigServiceClient>(settingsV1.RecorderConfigServiceClient, address, creds),
    audit: typed<settingsV1.AuditLogServiceServer, settingsV1.AuditLogServiceClient>(settingsV1.AuditLogServiceClient, address, creds),
    watch: typed<settingsV1.WatchServiceServer, settingsV1.WatchServiceClient>(settingsV1.WatchServiceClient, address, creds),
  };
  return { ...clients, close: () => Object.values(clients).forEach((x) => x.client.close()) };
}

export type SettingsClients = ReturnType<typeof settingsClients>;
