// The module server's link to one zone proxy (SPEC 1.4.6, DESIGN flow 7): provision it on
// :17488 if needed, hold the mutually authenticated Relay stream on :17487, feed relayed
// endpoint calls into the gateway, reconnect with backoff, and keep status and activity.
import type { PeerCertificate } from 'node:tls';
import { checkServerIdentity } from 'node:tls';
import { type ClientDuplexStream, credentials, Metadata, status as grpcStatus } from '@grpc/grpc-js';
import { zoneProxyV1 as zp } from '@dc/proto';
import type { Logger } from 'pino';
import { type BackoffPolicy, backoffDelay, DEFAULT_BACKOFF } from './backoff';
import { ReceiveWindow, SendWindow } from '@dc/zone-link';
import { AlreadyProvisioned, hostForUri, ProvisioningRefused, provisionZoneProxy } from './provisioning-client';
import { dispatchRelayedCall, RELAYABLE_METHODS, RelayedCall, type RelayedGateway } from './relayed-call';
import type { ZoneCertificateAuthority, ZoneLinkStatus, ZoneProxyActivity, ZoneProxyRecord, ZoneProxySettings } from './zone-proxy-directory';

/** The module server's client identity on zone links (CA-issued, purpose CLIENT or SERVICE). */
export interface LinkIdentity {
  readonly certificateChainPem: string;
  readonly privateKeyPem: string;
  readonly trustBundlePem: string;
}

export interface ZoneLinkStatusView {
  readonly zoneProxyId: string;
  readonly name: string;
  readonly status: ZoneLinkStatus;
  readonly detail: string;
  readonly lastChange: Date;
  readonly activity: ZoneProxyActivity;
}

export interface ZoneLinkDeps {
  readonly settings: ZoneProxySettings;
  readonly ca: ZoneCertificateAuthority;
  readonly identity: () => LinkIdentity;
  readonly gateway: RelayedGateway;
  readonly log: Logger;
  readonly clock: { now(): number };
  readonly random: () => number;
  readonly moduleServerVersion: string;
  readonly backoff?: BackoffPolicy;
  /** LinkHello parameters. */
  readonly keepaliveIntervalMs?: number;
  readonly initialWindowBytes?: number;
  /** Current trust to send in LinkHello. */
  readonly trust: () => zp.TrustUpdate | undefined;
  /** Told after every status or activity change (reporting to settings, metrics). */
  readonly onChange?: (view: ZoneLinkStatusView) => void;
  /** Overrides of where to dial (tests; DNS-less setups). Default: Module Server Target Hostname. */
  readonly addresses?: { provisioning?: string; link?: string };
}

/** A batch is sent early once its messages reach this size. */
const MAX_BATCH_BYTES = 1 << 20;

type RelayStream = ClientDuplexStream<zp.RelayRequest, zp.RelayResponse>;

interface LinkedStream {
  readonly call: RelayedCall;
  readonly send: SendWindow;
  readonly recv: ReceiveWindow;
  closing?: { code: number; reason: string };
}

export class ZoneLink {
  private state: ZoneLinkStatus = 'PROVISIONING';
  private detail = 'waiting to provision';
  private lastChange: Date;
  private stopped = false;
  private attempt = 0;
  private timer: NodeJS.Timeout | undefined;
  private keepaliveTimer: NodeJS.Timeout | undefined;
  private client: zp.ZoneLinkServiceClient | undefined;
  private stream: RelayStream | undefined;
  private readonly streams = new Map<number, LinkedStream>();
  private lastHeard = 0;
  private keepaliveSeq = 0;
  private readonly counters = { bytesToModuleServer: 0, bytesToEndpoints: 0, lastError: '', lastErrorTime: undefined as Date | undefined, connectedSince: undefined as Date | undefined };
  private provisioned = false;
  private pending: zp.ModuleServerFrame[] = [];
  private pendingBytes = 0;
  private readonly log: Logger;

  constructor(
    readonly record: ZoneProxyRecord,
    private readonly deps: ZoneLinkDeps,
  ) {
    this.lastChange = new Date(deps.clock.now());
    this.log = deps.log.child({ zoneProxy: record.name, zoneProxyId: record.id });
  }

  start(): void {
    this.set('PROVISIONING', 'provisioning on port 17488');
    this.schedule(0);
  }

  /** The record was deleted or the module server stops: drop the link, end every relayed call. */
  stop(reason: string): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.dropStream(reason);
    this.client?.close();
    this.client = undefined;
  }

  view(): ZoneLinkStatusView {
    let endpoints = 0;
    let sessions = 0;
    for (const s of this.streams.values()) {
      if (s.call.method === 'controlChannel') endpoints++;
      else if (s.call.method === 'sessionStream') sessions++;
    }
    return {
      zoneProxyId: this.record.id,
      name: this.record.name,
      status: this.state,
      detail: this.detail,
      lastChange: this.lastChange,
      activity: {
        endpointsConnected: endpoints,
        sessions,
        bytesToModuleServer: this.counters.bytesToModuleServer,
        bytesToEndpoints: this.counters.bytesToEndpoints,
        lastError: this.counters.lastError,
        lastErrorTime: this.counters.lastErrorTime,
        connectedSince: this.state === 'CONNECTED' ? this.counters.connectedSince : undefined,
        observedTime: new Date(this.deps.clock.now()),
      },
    };
  }

  /** Sends new trust material to the zone proxy (enforced on its next endpoint handshake). */
  pushTrust(update: zp.TrustUpdate): void {
    if (this.state === 'CONNECTED') this.write({ frame: { $case: 'trustUpdate', value: update } });
  }

  private set(state: ZoneLinkStatus, detail: string): void {
    if (state === this.state && detail === this.detail) return;
    if (state === 'ERROR' || state === 'DISCONNECTED') this.noteError(detail);
    this.state = state;
    this.detail = detail;
    this.lastChange = new Date(this.deps.clock.now());
    this.log.info({ status: state, detail }, 'zone proxy status changed');
    this.deps.onChange?.(this.view());
  }

  private noteError(message: string): void {
    this.counters.lastError = message;
    this.counters.lastErrorTime = new Date(this.deps.clock.now());
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.step(), delayMs);
  }

  private retry(): void {
    this.attempt++;
    this.schedule(backoffDelay(this.deps.backoff ?? DEFAULT_BACKOFF, this.attempt, this.deps.random));
  }

  private async step(): Promise<void> {
    if (this.stopped) return;
    if (!this.provisioned) {
      try {
        const material = await this.deps.settings.provisioning(this.record.id);
        await provisionZoneProxy({ material, ca: this.deps.ca, provisioningAddress: this.deps.addresses?.provisioning });
        this.log.info('zone proxy provisioned');
        this.provisioned = true;
      } catch (err) {
        if (this.stopped) return;
        if (err instanceof AlreadyProvisioned) this.provisioned = true;
        else if (err instanceof ProvisioningRefused) {
          this.set('ERROR', `provisioning refused: ${err.message}`);
          return; // redialing won't fix it: delete and re-add with a fresh payload
        } else if ((err as { code?: number }).code === grpcStatus.NOT_FOUND) {
          this.set('ERROR', `the zone proxy record is gone: ${(err as Error).message}`);
          return;
        } else {
          this.set('PROVISIONING', `cannot provision yet: ${describe(err)}`);
          this.retry();
          return;
        }
      }
    }
    this.connect();
  }

  private connect(): void {
    const id = this.deps.identity();
    const name = this.record.name;
    const creds = credentials.createSsl(Buffer.from(id.trustBundlePem), Buffer.from(id.privateKeyPem), Buffer.from(id.certificateChainPem), {
      checkServerIdentity: (host: string, cert: PeerCertificate) => {
        // The link-facing certificate must be this zone proxy's, not just any our CA issued.
        if (!(cert.subjectaltname ?? '').split(/,\s*/).includes(`URI:urn:dc:zone-proxy:${name}`)) {
          return new Error(`the server at ${host} is not zone proxy "${name}" (no urn:dc:zone-proxy:${name} in its certificate)`);
        }
        return this.deps.addresses?.link ? undefined : checkServerIdentity(host, cert);
      },
    });
    const address = this.deps.addresses?.link ?? `${hostForUri(this.record.moduleServerTargetHostname)}:${this.record.moduleServerInboundPort}`;
    this.client?.close();
    this.client = new zp.ZoneLinkServiceClient(address, creds, { 'grpc.keepalive_time_ms': 30_000 });
    const stream = this.client.relay(new Metadata());
    this.stream = stream;
    this.lastHeard = this.deps.clock.now();
    let acked = false;
    const keepaliveMs = this.deps.keepaliveIntervalMs ?? 15_000;
    this.pending = [];
    this.pendingBytes = 0;
    this.write({
      frame: {
        $case: 'hello',
        value: {
          zoneProxyId: this.record.id,
          moduleServerVersion: this.deps.moduleServerVersion,
          initialWindowBytes: this.window,
          maxMessageBytes: 4 << 20,
          keepaliveInterval: { seconds: Math.floor(keepaliveMs / 1000), nanos: (keepaliveMs % 1000) * 1e6 },
          trust: this.deps.trust(),
        },
      },
    });
    stream.on('data', (res: zp.RelayResponse) => {
      this.lastHeard = this.deps.clock.now();
      for (const frame of res.frames) {
        if (this.stream !== stream) return;
        const f = frame.frame;
        if (!f) continue;
        if (!acked) {
          if (f.$case !== 'helloAck') return this.linkFailed(stream, `the zone proxy answered ${f.$case} before LinkHelloAck`);
          acked = true;
          this.attempt = 0;
          this.counters.connectedSince = new Date(this.deps.clock.now());
          this.set('CONNECTED', `linked to ${address} (zone proxy ${f.value.version})`);
          this.startKeepalive(stream, keepaliveMs);
          continue;
        }
        this.onFrame(f);
      }
    });
    stream.on('error', (err: Error & { code?: number; details?: string }) => this.linkFailed(stream, describe(err)));
    stream.on('end', () => this.linkFailed(stream, 'the zone proxy closed the link'));
  }

  private get window(): number {
    return this.deps.initialWindowBytes ?? 1 << 20;
  }

  private startKeepalive(stream: RelayStream, intervalMs: number): void {
    clearInterval(this.keepaliveTimer);
    this.keepaliveTimer = setInterval(() => {
      if (this.stream !== stream) return;
      if (this.deps.clock.now() - this.lastHeard > 3 * intervalMs) {
        this.linkFailed(stream, `no frame from the zone proxy for ${3 * intervalMs} ms (3 keepalives missed)`);
        stream.cancel();
        return;
      }
      this.write({ frame: { $case: 'keepalive', value: { sequence: ++this.keepaliveSeq, sentTime: new Date(this.deps.clock.now()), reply: false } } });
    }, intervalMs);
  }

  private linkFailed(stream: RelayStream, why: string): void {
    if (this.stream !== stream) return;
    this.dropStream(`the link to zone proxy "${this.record.name}" went down: ${why}`);
    if (this.stopped) return;
    this.set('DISCONNECTED', why);
    this.retry();
  }

  private dropStream(reason: string): void {
    clearInterval(this.keepaliveTimer);
    const stream = this.stream;
    this.stream = undefined;
    for (const s of this.streams.values()) s.call.abort(reason);
    this.streams.clear();
    stream?.cancel();
  }

  /** Frames queue for the rest of this event-loop turn and go as one RelayRequest (a batch). */
  private write(frame: zp.ModuleServerFrame): void {
    if (!this.stream) return;
    const size = frame.frame?.$case === 'data' ? frame.frame.value.message.length : 0;
    // Keep each batch well under gRPC's default 4 MiB message limit.
    if (this.pendingBytes + size > MAX_BATCH_BYTES) this.flush();
    this.pending.push(frame);
    this.pendingBytes += size;
    if (this.pending.length === 1) {
      const stream = this.stream;
      setImmediate(() => {
        if (this.stream === stream) this.flush();
      });
    }
  }

  private flush(): void {
    const frames = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    if (this.stream && frames.length > 0) this.stream.write({ frames });
  }

  private onFrame(f: NonNullable<zp.ZoneProxyFrame['frame']>): void {
    switch (f.$case) {
      case 'open':
        return this.open(f.value);
      case 'data': {
        const s = this.streams.get(f.value.streamId);
        if (!s) return;
        const raw = f.value.message;
        const m = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength); // no copy
        this.counters.bytesToModuleServer += m.length;
        try {
          s.call.deliver(m);
        } catch (err) {
          s.call.emit('error', { code: grpcStatus.INTERNAL, details: `cannot decode a relayed message: ${(err as Error).message}` });
        }
        s.recv.consumed(m.length);
        return;
      }
      case 'halfClose':
        this.streams.get(f.value.streamId)?.call.halfClosed();
        return;
      case 'close': {
        const s = this.streams.get(f.value.streamId);
        if (!s) return;
        this.streams.delete(f.value.streamId);
        s.call.abort(f.value.reason || 'the endpoint ended the call');
        return;
      }
      case 'windowUpdate':
        this.streams.get(f.value.streamId)?.send.grant(f.value.creditBytes);
        return;
      case 'keepalive':
        if (!f.value.reply) this.write({ frame: { $case: 'keepalive', value: { ...f.value, reply: true } } });
        return;
      case 'handshakeFailure':
        this.noteError(`endpoint ${f.value.remoteAddress}${f.value.clientId ? ` (${f.value.clientId})` : ''} refused at the zone proxy: ${f.value.detail}`);
        this.deps.onChange?.(this.view());
        return;
      case 'activity':
        if (f.value.lastError && f.value.lastErrorTime && (!this.counters.lastErrorTime || f.value.lastErrorTime > this.counters.lastErrorTime)) {
          this.counters.lastError = f.value.lastError;
          this.counters.lastErrorTime = f.value.lastErrorTime;
        }
        this.deps.onChange?.(this.view());
        return;
      case 'helloAck':
        return;
    }
  }

  private open(o: zp.StreamOpen): void {
    const streamId = o.streamId;
    const refuse = (code: number, reason: string) => this.write({ frame: { $case: 'close', value: { streamId, statusCode: code, reason } } });
    const method = RELAYABLE_METHODS.get(o.method);
    if (!method) return refuse(grpcStatus.UNIMPLEMENTED, `${o.method} is not relayed (only dc.gateway.v1.EndpointGatewayService)`);
    if (this.streams.has(streamId)) return refuse(grpcStatus.INVALID_ARGUMENT, `stream ${streamId} is already open`);
    const identity = o.identity;
    if (!identity) return refuse(grpcStatus.UNAUTHENTICATED, 'StreamOpen carries no endpoint identity');
    const timeoutMs = o.timeout ? o.timeout.seconds * 1000 + o.timeout.nanos / 1e6 : undefined;
    // The call and its windows refer to each other; the holder breaks the cycle.
    const ref: { entry?: LinkedStream } = {};
    const flushClose = () => {
      const entry = ref.entry;
      if (entry?.closing && entry.send.queued === 0) {
        this.streams.delete(streamId);
        this.write({ frame: { $case: 'close', value: { streamId, statusCode: entry.closing.code, reason: entry.closing.reason } } });
        entry.closing = undefined;
      }
    };
    const call = new RelayedCall(
      method,
      {
        clientId: identity.clientId,
        serial: identity.certificateSerial,
        notAfter: identity.certificateNotAfter?.getTime() ?? 0,
        fingerprintSha256: identity.certificateFingerprintSha256,
        remoteAddress: identity.remoteAddress,
        route: this.record.name,
        zoneProxyId: this.record.id,
      },
      o.metadata,
      {
        send: (m) => ref.entry?.send.push(m),
        close: (code, reason) => {
          if (!ref.entry) return;
          ref.entry.closing = { code, reason };
          flushClose();
        },
      },
      timeoutMs !== undefined ? this.deps.clock.now() + timeoutMs : undefined,
    );
    const entry: LinkedStream = {
      call,
      send: new SendWindow(
        this.window,
        (m) => {
          this.counters.bytesToEndpoints += m.length;
          this.write({ frame: { $case: 'data', value: { streamId, message: m } } });
        },
        (blocked) => {
          if (!blocked) flushClose();
        },
      ),
      recv: new ReceiveWindow(this.window, (g) => this.write({ frame: { $case: 'windowUpdate', value: { streamId, creditBytes: g } } })),
    };
    ref.entry = entry;
    this.streams.set(streamId, entry);
    call.once('close', () => this.deps.onChange?.(this.view()));
    dispatchRelayedCall(this.deps.gateway, call);
    if (method === 'controlChannel' || method === 'sessionStream') this.deps.onChange?.(this.view());
  }
}

function describe(err: unknown): string {
  const e = err as { code?: number; details?: string; message?: string };
  if (typeof e.code === 'number' && e.details) return `${grpcStatus[e.code] ?? e.code}: ${e.details}`;
  return e.message ?? String(err);
}
