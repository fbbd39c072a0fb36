// A relayed endpoint call as the gateway sees it: the same shape as a grpc-js server call
// (events 'data' / 'end' / 'cancelled' / 'error', write, end, emit('error', status)), plus the
// endpoint's identity as the zone proxy verified it and the route (SPEC 1.4.6: "to the broker
// an endpoint behind a zone proxy is the same as a direct one, except that its route is shown").
import { EventEmitter } from 'node:events';
import { Metadata, type ServiceError, status } from '@grpc/grpc-js';
import { gatewayV1 as gateway } from '@dc/proto';

/** Who is on the other end of a relayed call, verified by the zone proxy's TLS handshake. */
export interface RelayedPeer {
  /** Empty for an anonymous call (Enrol only). */
  readonly clientId: string;
  /** Lowercase hex without leading zeros. */
  readonly serial: string;
  readonly notAfter: number;
  readonly fingerprintSha256: string;
  /** The endpoint's address as the zone proxy saw it, "ip:port". */
  readonly remoteAddress: string;
  /** The route: the zone proxy's name. */
  readonly route: string;
  readonly zoneProxyId: string;
}

/** The gateway's handlers, the same the direct :17475 server runs. */
export type RelayedGateway = Pick<gateway.EndpointGatewayServiceServer, 'enrol' | 'renewCertificate' | 'controlChannel' | 'sessionStream'>;

const PEER = Symbol.for('dc.module-server.zone-links.relayed-peer');

/** The verified identity of a relayed call, or undefined for a direct one. The gateway's authenticate uses it. */
export function relayedPeerOf(call: object): RelayedPeer | undefined {
  return (call as { [PEER]?: RelayedPeer })[PEER];
}

type MethodName = keyof RelayedGateway;
const DEF = gateway.EndpointGatewayServiceService;

export const RELAYABLE_METHODS: ReadonlyMap<string, MethodName> = new Map(
  (Object.keys(DEF) as MethodName[]).map((name) => [DEF[name].path, name] as const),
);

/** How a relayed call talks back over the link. */
export interface RelayedCallSink {
  /** One serialized response message. */
  send(message: Buffer): void;
  /** The call's final status (after every message sent before it). */
  close(code: number, reason: string): void;
}

/** One relayed call; the zone link feeds it frames and the gateway handler consumes it. */
export class RelayedCall extends EventEmitter {
  readonly [PEER]: RelayedPeer;
  readonly metadata: Metadata;
  cancelled = false;
  request: unknown;
  private finished = false;

  constructor(
    readonly method: MethodName,
    peer: RelayedPeer,
    metadata: Record<string, string>,
    private readonly sink: RelayedCallSink,
    private readonly deadline: number | undefined,
  ) {
    super();
    this[PEER] = peer;
    this.metadata = new Metadata();
    for (const [k, v] of Object.entries(metadata)) this.metadata.set(k, v);
  }

  getPeer(): string {
    return this.peerAddress;
  }
  private get peerAddress(): string {
    return this[PEER].remoteAddress;
  }
  getPath(): string {
    return DEF[this.method].path;
  }
  getDeadline(): number {
    return this.deadline ?? Infinity;
  }
  getAuthContext(): object {
    return {};
  }
  sendMetadata(): void {}
  pause(): this {
    return this;
  }
  resume(): this {
    return this;
  }

  write(message: unknown, cb?: () => void): boolean {
    if (this.finished) return false;
    this.sink.send((DEF[this.method].responseSerialize as (m: unknown) => Buffer)(message));
    cb?.();
    return true;
  }

  end(): this {
    this.finish(status.OK, '');
    return this;
  }

  /** `emit('error', {code, details})` ends the call with that status, as on a grpc-js call. */
  override emit(event: string | symbol, ...args: unknown[]): boolean {
    if (event === 'error') {
      const e = args[0] as Partial<ServiceError> | undefined;
      this.finish(typeof e?.code === 'number' ? e.code : status.UNKNOWN, e?.details ?? e?.message ?? 'unknown error');
      return this.listenerCount('error') > 0 ? super.emit(event, ...args) : false;
    }
    return super.emit(event, ...args);
  }

  /** Frames from the zone proxy. */
  deliver(bytes: Buffer): void {
    if (this.finished) return;
    const message = (DEF[this.method].requestDeserialize as (b: Buffer) => unknown)(bytes);
    this.request = message;
    super.emit('data', message);
  }
  halfClosed(): void {
    if (!this.finished) super.emit('end');
  }
  /** The endpoint cancelled or disconnected, or the link went down. */
  abort(reason: string): void {
    if (this.finished) return;
    this.finished = true;
    this.cancelled = true;
    super.emit('cancelled', reason);
    super.emit('close');
  }

  get done(): boolean {
    return this.finished;
  }

  private finish(code: number, reason: string): void {
    if (this.finished) return;
    this.finished = true;
    this.sink.close(code, reason);
    super.emit('close');
  }
}

/** Runs a relayed call on the gateway's handler: streams as they are, unary calls once the request is in. */
export function dispatchRelayedCall(gw: RelayedGateway, call: RelayedCall): void {
  switch (call.method) {
    case 'controlChannel':
      gw.controlChannel(call as never);
      return;
    case 'sessionStream':
      gw.sessionStream(call as never);
      return;
    case 'enrol':
    case 'renewCertificate': {
      let got = false;
      const onData = () => {
        got = true;
      };
      call.on('data', onData);
      call.once('end', () => {
        call.off('data', onData);
        if (!got) {
          call.emit('error', { code: status.INVALID_ARGUMENT, details: 'a unary call needs exactly one request message' });
          return;
        }
        const callback = (err: Partial<ServiceError> | null, value?: unknown) => {
          if (err) call.emit('error', err);
          else {
            call.write(value);
            call.end();
          }
        };
        (gw[call.method] as (c: unknown, cb: typeof callback) => void)(call, callback);
      });
      return;
    }
  }
}
