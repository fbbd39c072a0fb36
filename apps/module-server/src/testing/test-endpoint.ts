// A scripted endpoint for broker tests and the load generator: its own key and certificate,
// real mutual TLS, a control channel and session streams. (The real agent's client lives in
// apps/endpoint-recorder/src/connectivity; apps do not import each other.)
import { type ClientDuplexStream, credentials, type ServiceError } from '@grpc/grpc-js';
import { common, gateway, type session as sessionPb } from '../contracts';
import { makeCsr, rsaKeyPair, type KeyPairPem } from './test-ca';

export interface EndpointIdentity {
  readonly clientId: string;
  readonly key: KeyPairPem;
  readonly certPem: string;
  readonly caPem: string;
}

export type RequestHandler = (req: sessionPb.SessionRequest) => AsyncIterable<sessionPb.SessionResponse['payload']> | Iterable<sessionPb.SessionResponse['payload']>;

const CHANNEL_OPTIONS = { 'grpc.keepalive_time_ms': 60_000, 'grpc.max_reconnect_backoff_ms': 2000, 'grpc.initial_reconnect_backoff_ms': 200, 'grpc.use_local_subchannel_pool': 1 };

export async function enrolTestEndpoint(address: string, caPem: string, token: string, hostName: string, key: KeyPairPem = rsaKeyPair()): Promise<EndpointIdentity> {
  const client = new gateway.EndpointGatewayServiceClient(address, credentials.createSsl(Buffer.from(caPem)), CHANNEL_OPTIONS);
  try {
    const res = await new Promise<gateway.EnrolResponse>((resolve, reject) =>
      client.enrol({ csrPem: makeCsr(key), enrolmentToken: token, hostName, os: common.OperatingSystem.OPERATING_SYSTEM_LINUX }, (err, r) => (err ? reject(err) : resolve(r))),
    );
    return { clientId: res.clientId, key, certPem: res.certificateChainPem, caPem: res.trustBundlePem };
  } finally {
    client.close();
  }
}

export function gatewayClient(address: string, id: Pick<EndpointIdentity, 'key' | 'certPem' | 'caPem'>): gateway.EndpointGatewayServiceClient {
  const creds = credentials.createSsl(Buffer.from(id.caPem), Buffer.from(id.key.privateKeyPem), Buffer.from(id.certPem));
  return new gateway.EndpointGatewayServiceClient(address, creds, CHANNEL_OPTIONS);
}

export interface TestEndpointOptions {
  readonly hostName: string;
  readonly ips?: string[];
  readonly actionLock?: boolean;
  readonly endpointTime?: () => Date;
  readonly onRequest?: RequestHandler;
  /** Refuse Open Session actions with NOT_SUCCEEDED (the endpoint-side action lock). */
  readonly refuseSessions?: string;
  /** Content revision reported in the hello until a Configure Extension raises it. Default 0. */
  readonly configurationRevision?: number;
  /** Refuse Configure Extension actions with NOT_SUCCEEDED and this detail. */
  readonly refuseConfiguration?: string;
}

/** One connected endpoint: control channel + session streams. */
export class TestEndpoint {
  client: gateway.EndpointGatewayServiceClient;
  private control?: ClientDuplexStream<gateway.ControlChannelRequest, gateway.ControlChannelResponse>;
  private sequence = 0;
  readonly received: gateway.ControlChannelResponse[] = [];
  readonly goaways: gateway.Goaway[] = [];
  readonly sessionStreams = new Map<string, ClientDuplexStream<gateway.SessionStreamRequest, gateway.SessionStreamResponse>>();
  helloAck?: gateway.HelloAck;
  ended?: { error?: ServiceError };
  renewals = 0;
  /** The content revision this endpoint runs (reported in its hello). */
  configurationRevision: number;
  /** Configure Extension actions received, in order. */
  readonly configureActions: gateway.Action[] = [];

  constructor(
    readonly address: string,
    public identity: EndpointIdentity,
    readonly opts: TestEndpointOptions,
  ) {
    this.client = gatewayClient(address, identity);
    this.configurationRevision = opts.configurationRevision ?? 0;
  }

  /** Opens the control channel and resolves with the HelloAck (rejects with the broker's refusal). */
  connect(): Promise<gateway.HelloAck> {
    this.ended = undefined;
    this.helloAck = undefined;
    const call = this.client.controlChannel();
    this.control = call;
    return new Promise((resolve, reject) => {
      call.on('data', (m: gateway.ControlChannelResponse) => {
        this.received.push(m);
        const msg = m.message;
        if (!msg) return;
        if (msg.$case === 'helloAck') {
          this.helloAck = msg.value;
          resolve(msg.value);
        } else if (msg.$case === 'goaway') this.goaways.push(msg.value);
        else if (msg.$case === 'ping') this.send({ message: { $case: 'pong', value: { pingId: msg.value.pingId, endpointTime: this.now() } } });
        else if (msg.$case === 'action') void this.onAction(msg.value);
      });
      call.on('error', (err: ServiceError) => {
        this.ended = { error: err };
        reject(err);
      });
      call.on('end', () => {
        this.ended ??= {};
      });
      this.send({
        message: {
          $case: 'hello',
          value: gateway.Hello.fromPartial({
            clientId: this.identity.clientId,
            hostName: this.opts.hostName,
            ipAddresses: this.opts.ips ?? ['127.0.0.1'],
            os: common.OperatingSystem.OPERATING_SYSTEM_LINUX,
            toolsVersion: '0.1.0',
            recorderVersion: '0.1.0',
            actionLock: this.opts.actionLock ?? false,
            recorderStatus: common.RecorderStatus.fromPartial({ state: common.RecorderState.RECORDER_STATE_RUNNING }),
            endpointTime: this.now(),
            configurationRevision: this.configurationRevision,
          }),
        },
      });
    });
  }

  heartbeat(): void {
    this.send({ message: { $case: 'heartbeat', value: { sequence: ++this.sequence, endpointTime: this.now(), activeSessions: this.sessionStreams.size } } });
  }

  /** Says why it leaves (gateway Goodbye), as the agent does before a deliberate close; follow with disconnect(). */
  goodbye(reason: gateway.GoodbyeReason, detail = ''): void {
    this.send({ message: { $case: 'goodbye', value: { reason, detail } } });
  }

  /** Reports an action's progress by hand (actions this endpoint does not script, e.g. Remove Tools). */
  reportStatus(actionId: string, status: common.ActionStatus, detail = ''): void {
    this.status(actionId, status, detail);
  }

  /** Closes the control channel cleanly (half-close). */
  disconnect(): void {
    this.control?.end();
  }

  close(): void {
    for (const s of this.sessionStreams.values()) s.end();
    this.control?.cancel();
    this.client.close();
  }

  private now(): Date {
    return this.opts.endpointTime ? this.opts.endpointTime() : new Date();
  }

  private send(m: gateway.ControlChannelRequest): void {
    this.control?.write(m);
  }

  private status(actionId: string, status: common.ActionStatus, detail = '', failureReason = gateway.ActionFailureReason.ACTION_FAILURE_REASON_UNSPECIFIED): void {
    this.send({ message: { $case: 'actionStatus', value: { actionId, status, detail, failureReason, time: this.now() } } });
  }

  private async onAction(action: gateway.Action): Promise<void> {
    const kind = action.kind;
    if (!kind) return;
    if (kind.$case === 'openSession') {
      if (this.opts.refuseSessions) {
        this.status(action.actionId, common.ActionStatus.ACTION_STATUS_NOT_SUCCEEDED, this.opts.refuseSessions, gateway.ActionFailureReason.ACTION_FAILURE_REASON_ACTION_LOCKED);
        return;
      }
      this.status(action.actionId, common.ActionStatus.ACTION_STATUS_RUNNING);
      this.attachSession(kind.value.sessionId, action.actionId);
    } else if (kind.$case === 'configureExtension') {
      this.configureActions.push(action);
      if (this.opts.refuseConfiguration) {
        this.status(action.actionId, common.ActionStatus.ACTION_STATUS_NOT_SUCCEEDED, this.opts.refuseConfiguration, gateway.ActionFailureReason.ACTION_FAILURE_REASON_ACTION_LOCKED);
        return;
      }
      this.configurationRevision = kind.value.configuration?.revision ?? this.configurationRevision;
      this.status(action.actionId, common.ActionStatus.ACTION_STATUS_SUCCEEDED, `content revision ${this.configurationRevision} applied`);
    } else if (kind.$case === 'renewCertificate') {
      await this.renew();
      this.status(action.actionId, common.ActionStatus.ACTION_STATUS_SUCCEEDED);
    }
  }

  /** Renews the certificate over RenewCertificate; new connections use it, open streams stay. */
  async renew(): Promise<void> {
    const key = rsaKeyPair();
    const res = await new Promise<gateway.RenewCertificateResponse>((resolve, reject) =>
      this.client.renewCertificate({ csrPem: makeCsr(key) }, (err, r) => (err ? reject(err) : resolve(r))),
    );
    this.identity = { ...this.identity, key, certPem: res.certificateChainPem, caPem: res.trustBundlePem };
    this.renewals++;
  }

  /** A fresh client with the current identity (what the agent does when it reconnects). */
  reconnectClient(): void {
    this.client.close();
    this.client = gatewayClient(this.address, this.identity);
  }

  private attachSession(sessionId: string, actionId: string): void {
    const stream = this.client.sessionStream();
    this.sessionStreams.set(sessionId, stream);
    stream.on('data', (m: gateway.SessionStreamResponse) => {
      if (m.message?.$case === 'request') void this.answer(stream, m.message.value);
    });
    stream.on('error', () => this.sessionStreams.delete(sessionId));
    stream.on('end', () => {
      this.sessionStreams.delete(sessionId);
      stream.end();
    });
    stream.write({ message: { $case: 'attach', value: { sessionId, actionId } } });
  }

  private async answer(stream: ClientDuplexStream<gateway.SessionStreamRequest, gateway.SessionStreamResponse>, req: sessionPb.SessionRequest): Promise<void> {
    const handler: RequestHandler = this.opts.onRequest ?? defaultHandler(this.now.bind(this));
    const payloads: Array<sessionPb.SessionResponse['payload']> = [];
    for await (const p of handler(req)) payloads.push(p);
    payloads.forEach((payload, i) => stream.write({ message: { $case: 'response', value: { requestId: req.requestId, chunkIndex: i, last: i === payloads.length - 1, payload } } }));
  }
}

function defaultHandler(now: () => Date): RequestHandler {
  return function* (req) {
    const p = req.payload;
    if (p?.$case === 'ping') yield { $case: 'pong', value: { payload: p.value.payload, endpointTime: now() } };
    else if (p?.$case === 'recorderStatus') yield { $case: 'recorderStatus', value: common.RecorderStatus.fromPartial({ state: common.RecorderState.RECORDER_STATE_RUNNING }) };
    else yield { $case: 'error', value: { code: 9, message: `${p?.$case ?? 'empty request'} is not answered by the test endpoint`, field: '' } };
  };
}
