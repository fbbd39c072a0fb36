// The gRPC connection dcctl uses: one channel per service address, bearer token metadata,
// deadlines, and failures turned into CliErrors.
import {
  type CallOptions,
  type ChannelCredentials,
  type ChannelOptions,
  Client,
  type ClientReadableStream,
  credentials,
  Metadata,
  type MethodDefinition,
} from '@grpc/grpc-js';
import { type CallTarget, CliError, EXIT, fromGrpcError } from './cli-error';

export type ServiceKey = 'api' | 'settings' | 'ca';

export const SERVICE_LABELS: Record<ServiceKey, string> = {
  api: 'module server API',
  settings: 'settings service',
  ca: 'certificate authority',
};

/** Which flag sets each address, for messages. */
export const SERVICE_FLAGS: Record<ServiceKey, string> = { api: '--api', settings: '--settings', ca: '--ca' };

export interface ConnectionOptions {
  readonly addresses: Readonly<Record<ServiceKey, string>>;
  /** Bearer token; calls without one are refused by the servers (UNAUTHENTICATED). */
  readonly token?: string;
  /** PEM trust bundle for the services dialled with TLS. */
  readonly caPem?: string;
  /** Services dialled with TLS (checked against caPem); the others plaintext. */
  readonly tlsServices: ReadonlySet<ServiceKey>;
  /** Name each service's certificate is checked against instead of the dialled host. */
  readonly tlsServerNames?: Partial<Record<ServiceKey, string>>;
  /** Deadline of unary calls. */
  readonly timeoutMs: number;
}

/** A method of a generated service definition (e.g. settingsV1.SetupServiceService.getSetupStatus). */
export type Method<Req, Res> = Pick<MethodDefinition<Req, Res>, 'path' | 'requestSerialize' | 'responseDeserialize'>;

/** Maps a method path to the service that serves it. */
export function serviceOf(path: string): ServiceKey {
  if (path.startsWith('/dc.settings.v1.')) return 'settings';
  if (path.startsWith('/dc.ca.v1.')) return 'ca';
  if (path.startsWith('/dc.moduleserver.v1.')) return 'api';
  throw new Error(`no service known for method ${path}`);
}

export class Connection {
  private readonly clients = new Map<ServiceKey, Client>();
  private readonly tlsCreds?: ChannelCredentials;

  constructor(readonly options: ConnectionOptions) {
    this.tlsCreds = options.caPem ? credentials.createSsl(Buffer.from(options.caPem)) : undefined;
  }

  private client(service: ServiceKey): Client {
    let client = this.clients.get(service);
    if (!client) {
      const tls = this.options.tlsServices.has(service);
      if (tls && !this.tlsCreds) {
        throw new CliError(`${SERVICE_LABELS[service]} is dialled with TLS but no trust bundle was given`, EXIT.USAGE, 'pass --ca-file <trust-bundle.pem> (the CA writes it to its data directory), or leave the service out of --tls-services');
      }
      const name = this.options.tlsServerNames?.[service];
      const channelOptions: ChannelOptions = tls && name ? { 'grpc.ssl_target_name_override': name, 'grpc.default_authority': name } : {};
      client = new Client(this.options.addresses[service], tls ? this.tlsCreds! : credentials.createInsecure(), channelOptions);
      this.clients.set(service, client);
    }
    return client;
  }

  private metadata(method: string): Metadata {
    const md = new Metadata();
    if (!this.options.token) {
      throw new CliError(`not logged in (needed for ${method.slice(1)})`, EXIT.AUTH, 'log in first: dcctl login --token-file <file> (or --token - to read it from stdin)');
    }
    md.set('authorization', `Bearer ${this.options.token}`);
    return md;
  }

  target(method: Method<unknown, unknown>, permission?: string): CallTarget {
    const service = serviceOf(method.path);
    return { serviceLabel: SERVICE_LABELS[service], address: this.options.addresses[service], method: method.path.slice(1), permission };
  }

  /** One request, one response. `permission` (SPEC 1.3) is named in a PERMISSION_DENIED hint. */
  unary<Req, Res>(method: Method<Req, Res>, permission: string | undefined, request: Req, opts: { public?: boolean; timeoutMs?: number } = {}): Promise<Res> {
    const target = this.target(method as Method<unknown, unknown>, permission);
    const md = opts.public ? new Metadata() : this.metadata(method.path);
    const callOptions: Partial<CallOptions> = { deadline: Date.now() + (opts.timeoutMs ?? this.options.timeoutMs) };
    return new Promise<Res>((resolve, reject) => {
      this.client(serviceOf(method.path)).makeUnaryRequest(
        method.path,
        method.requestSerialize,
        method.responseDeserialize,
        request,
        md,
        callOptions,
        (err, res) => (err ? reject(fromGrpcError(err, target)) : resolve(res as Res)),
      );
    });
  }

  /**
   * A server stream: `onMessage` runs for each message (in order; it may be async — the stream
   * is paused until it settles). Resolves when the stream ends; `signal` cancels it quietly.
   */
  stream<Req, Res>(
    method: Method<Req, Res>,
    permission: string | undefined,
    request: Req,
    onMessage: (message: Res) => void | Promise<void>,
    opts: { signal?: AbortSignal; timeoutMs?: number } = {},
  ): Promise<void> {
    const target = this.target(method as Method<unknown, unknown>, permission);
    const md = this.metadata(method.path);
    const callOptions: Partial<CallOptions> = opts.timeoutMs ? { deadline: Date.now() + opts.timeoutMs } : {};
    return new Promise<void>((resolve, reject) => {
      const call: ClientReadableStream<Res> = this.client(serviceOf(method.path)).makeServerStreamRequest(
        method.path,
        method.requestSerialize,
        method.responseDeserialize,
        request,
        md,
        callOptions,
      );
      let cancelled = false;
      let failed = false;
      const onAbort = () => {
        cancelled = true;
        call.cancel();
      };
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      const fail = (err: unknown) => {
        if (failed) return;
        failed = true;
        opts.signal?.removeEventListener('abort', onAbort);
        call.cancel();
        reject(err instanceof CliError ? err : fromGrpcError(err, target));
      };
      call.on('data', (message: Res) => {
        let result: void | Promise<void>;
        try {
          result = onMessage(message);
        } catch (err) {
          fail(err);
          return;
        }
        if (result instanceof Promise) {
          call.pause();
          result.then(() => call.resume(), fail);
        }
      });
      call.on('error', (err) => {
        if (cancelled) {
          opts.signal?.removeEventListener('abort', onAbort);
          resolve();
        } else fail(err);
      });
      call.on('end', () => {
        opts.signal?.removeEventListener('abort', onAbort);
        if (!failed) resolve();
      });
    });
  }

  close(): void {
    for (const client of this.clients.values()) client.close();
    this.clients.clear();
  }
}
