// The zone proxy's end of the link (:17487): holds the module server's Relay stream and turns
// each endpoint call on :17486 into a relayed stream over it (StreamOpen / StreamData /
// StreamHalfClose / StreamClose / WindowUpdate), with keepalives and activity (SPEC 1.4.6).
import { type ServerDuplexStream, status } from '@grpc/grpc-js';
import { type zoneProxyV1 as zp } from '@dc/proto';
import { Unavailable } from '@dc/service-kit';
import type { Logger } from 'pino';
import { ReceiveWindow, SendWindow } from '@dc/zone-link';

type RelayCall = ServerDuplexStream<zp.RelayRequest, zp.RelayResponse>;

/** Defaults of LinkHello (dc.zoneproxy.v1). */
export const LINK_DEFAULTS = { initialWindowBytes: 1 << 20, maxMessageBytes: 4 << 20, keepaliveIntervalMs: 15_000 } as const;
/** A batch is sent early once its messages reach this size. */
const MAX_BATCH_BYTES = 1 << 20;
const CONTROL_CHANNEL = '/dc.gateway.v1.EndpointGatewayService/ControlChannel';
const SESSION_STREAM = '/dc.gateway.v1.EndpointGatewayService/SessionStream';

/** What the hub needs from the endpoint's gRPC call on :17486. */
export interface EndpointSide {
  /** Writes one response message to the endpoint; `flushed` runs once it left our buffers. */
  deliver(message: Buffer, flushed: () => void): void;
  /** Ends the endpoint's call with this gRPC status. */
  finish(code: number, reason: string): void;
  pause(): void;
  resume(): void;
}

/** The proxy's handle on one relayed stream, fed by the endpoint's call. */
export interface RelayedStream {
  readonly id: number;
  data(message: Buffer): void;
  halfClose(): void;
  /** The endpoint cancelled or disconnected. */
  cancel(code: number, reason: string): void;
}

export interface OpenRequest {
  readonly method: string;
  readonly identity: zp.EndpointIdentity;
  readonly metadata: Record<string, string>;
  readonly timeoutMs?: number;
}

export interface LinkHubOptions {
  readonly zoneProxyName: string;
  readonly version: string;
  readonly clock: { now(): number };
  readonly log: Logger;
  /** How often activity figures go to the module server (dc.zoneproxy.v1: every 30 s). */
  readonly activityIntervalMs?: number;
  /** New trust bundle / revocation list from the module server. */
  readonly onTrustUpdate: (u: zp.TrustUpdate) => void;
}

interface StreamState {
  readonly id: number;
  readonly method: string;
  /** The endpoint certificate's serial ('' for Enrol). */
  readonly serial: string;
  readonly side: EndpointSide;
  readonly send: SendWindow;
  readonly recv: ReceiveWindow;
  done: boolean;
}

class Link {
  hello: zp.LinkHello | undefined;
  readonly streams = new Map<number, StreamState>();
  nextId = 1;
  lastHeard: number;
  keepaliveSeq = 0;
  timer: NodeJS.Timeout | undefined;
  activityTimer: NodeJS.Timeout | undefined;
  ended = false;
  pending: zp.ZoneProxyFrame[] = [];
  pendingBytes = 0;
  constructor(
    readonly call: RelayCall,
    readonly remote: string,
    now: number,
  ) {
    this.lastHeard = now;
  }
  get window(): number {
    return this.hello?.initialWindowBytes || LINK_DEFAULTS.initialWindowBytes;
  }
  get keepaliveMs(): number {
    const d = this.hello?.keepaliveInterval;
    const ms = d ? d.seconds * 1000 + Math.round(d.nanos / 1e6) : 0;
    return ms > 0 ? ms : LINK_DEFAULTS.keepaliveIntervalMs;
  }
}

export class LinkHub {
  private link: Link | undefined;
  private readonly counters = { bytesToModuleServer: 0, bytesToEndpoints: 0, lastError: '', lastErrorTime: undefined as Date | undefined, connectedSince: undefined as Date | undefined };
  private closed = false;

  constructor(private readonly o: LinkHubOptions) {}

  get linked(): boolean {
    return Boolean(this.link?.hello && !this.link.ended);
  }

  activity(): zp.GetStatusResponse['activity'] & object {
    let endpoints = 0;
    let sessions = 0;
    for (const s of this.link?.streams.values() ?? []) {
      if (s.method === CONTROL_CHANNEL) endpoints++;
      else if (s.method === SESSION_STREAM) sessions++;
    }
    return {
      endpointsConnected: endpoints,
      sessions,
      bytesToModuleServer: this.counters.bytesToModuleServer,
      bytesToEndpoints: this.counters.bytesToEndpoints,
      lastError: this.counters.lastError,
      lastErrorTime: this.counters.lastErrorTime,
      connectedSince: this.linked ? this.counters.connectedSince : undefined,
      observedTime: new Date(this.o.clock.now()),
    };
  }

  noteError(message: string): void {
    this.counters.lastError = message;
    this.counters.lastErrorTime = new Date(this.o.clock.now());
  }

  /** A module server opened the Relay stream (mutual TLS already verified it). */
  attach(call: RelayCall): void {
    if (this.closed) {
      call.emit('error', { code: status.UNAVAILABLE, details: 'the zone proxy is shutting down' });
      return;
    }
    const link = new Link(call, call.getPeer(), this.o.clock.now());
    const log = this.o.log.child({ link: link.remote });
    call.on('data', (req: zp.RelayRequest) => {
      try {
        for (const frame of req.frames) if (!link.ended) this.onFrame(link, frame);
      } catch (err) {
        log.warn({ err }, 'link protocol error');
        this.endLink(link, status.INVALID_ARGUMENT, `link protocol error: ${(err as Error).message}`);
      }
    });
    const gone = (why: string) => () => this.dropLink(link, why);
    call.on('end', gone('the module server closed the link'));
    call.on('cancelled', gone('the link to the module server was lost'));
    call.on('error', (err: Error) => this.dropLink(link, `link error: ${err.message}`));
    call.on('close', gone('the link closed'));
  }

  /** An endpoint call to relay; Unavailable when no module server is linked. */
  open(req: OpenRequest, side: EndpointSide): RelayedStream {
    const link = this.link;
    if (!link || !link.hello || link.ended) throw new Unavailable('the zone proxy has no link to the module server; try again later or another route');
    const id = link.nextId;
    link.nextId += 2;
    const st: StreamState = {
      id,
      method: req.method,
      serial: req.identity.certificateSerial,
      side,
      done: false,
      send: new SendWindow(
        link.window,
        (m) => {
          this.counters.bytesToModuleServer += m.length;
          this.write(link, { frame: { $case: 'data', value: { streamId: id, message: m } } });
        },
        (blocked) => (blocked ? side.pause() : side.resume()),
      ),
      recv: new ReceiveWindow(link.window, (g) => this.write(link, { frame: { $case: 'windowUpdate', value: { streamId: id, creditBytes: g } } })),
    };
    link.streams.set(id, st);
    this.write(link, {
      frame: {
        $case: 'open',
        value: {
          streamId: id,
          method: req.method,
          identity: req.identity,
          metadata: req.metadata,
          timeout: req.timeoutMs !== undefined ? { seconds: Math.floor(req.timeoutMs / 1000), nanos: (req.timeoutMs % 1000) * 1e6 } : undefined,
        },
      },
    });
    const maxMessage = link.hello.maxMessageBytes || LINK_DEFAULTS.maxMessageBytes;
    return {
      id,
      data: (m) => {
        if (st.done) return;
        if (m.length > maxMessage) {
          this.closeStream(link, st, status.RESOURCE_EXHAUSTED, `message of ${m.length} bytes exceeds the link's ${maxMessage}`, true);
          return;
        }
        st.send.push(m);
      },
      halfClose: () => {
        if (!st.done) this.write(link, { frame: { $case: 'halfClose', value: { streamId: id } } });
      },
      cancel: (code, reason) => {
        if (st.done) return;
        st.done = true;
        link.streams.delete(id);
        this.write(link, { frame: { $case: 'close', value: { streamId: id, statusCode: code, reason } } });
      },
    };
  }

  /** A new revocation list: relayed calls of certificates now revoked end at once (UNAUTHENTICATED). */
  endRevoked(isRevoked: (serial: string) => boolean): number {
    const link = this.link;
    if (!link) return 0;
    let ended = 0;
    for (const st of [...link.streams.values()]) {
      if (st.serial && isRevoked(st.serial)) {
        this.closeStream(link, st, status.UNAUTHENTICATED, 'certificate revoked', true);
        ended++;
      }
    }
    return ended;
  }

  reportHandshakeFailure(f: zp.HandshakeFailure): void {
    this.noteError(`endpoint ${f.remoteAddress}: ${f.detail}`);
    if (this.linked) this.write(this.link!, { frame: { $case: 'handshakeFailure', value: f } });
  }

  /** Ends the link and every relayed stream (shutdown, or the proxy was re-installed). */
  close(): void {
    this.closed = true;
    if (this.link) this.endLink(this.link, status.UNAVAILABLE, 'the zone proxy is shutting down');
  }

  private onFrame(link: Link, req: zp.ModuleServerFrame): void {
    link.lastHeard = this.o.clock.now();
    const f = req.frame;
    if (!f) return;
    if (!link.hello) {
      if (f.$case !== 'hello') throw new Error(`the first frame must be LinkHello (got ${f.$case})`);
      this.accept(link, f.value);
      return;
    }
    switch (f.$case) {
      case 'hello':
        throw new Error('LinkHello is sent once, first');
      case 'data': {
        const st = link.streams.get(f.value.streamId);
        if (!st) return; // the stream ended on our side; its late frames are dropped
        const raw = f.value.message;
        const m = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength); // no copy
        this.counters.bytesToEndpoints += m.length;
        st.side.deliver(m, () => st.recv.consumed(m.length));
        return;
      }
      case 'halfClose':
        return; // the final StreamClose carries the status
      case 'close': {
        const st = link.streams.get(f.value.streamId);
        if (!st) return;
        st.done = true;
        link.streams.delete(st.id);
        st.side.finish(f.value.statusCode, f.value.reason);
        return;
      }
      case 'windowUpdate':
        if (f.value.streamId === 0) return; // no link-wide window: HTTP/2 bounds the link itself
        link.streams.get(f.value.streamId)?.send.grant(f.value.creditBytes);
        return;
      case 'keepalive':
        if (!f.value.reply) this.write(link, { frame: { $case: 'keepalive', value: { sequence: f.value.sequence, sentTime: f.value.sentTime, reply: true } } });
        return;
      case 'trustUpdate':
        this.o.onTrustUpdate(f.value);
        return;
    }
  }

  private accept(link: Link, hello: zp.LinkHello): void {
    link.hello = hello;
    let reset = 0;
    if (this.link && this.link !== link) {
      reset = this.link.streams.size;
      this.endLink(this.link, status.UNAVAILABLE, 'a new link from the module server replaced this one');
    }
    this.link = link;
    this.counters.connectedSince = new Date(this.o.clock.now());
    if (hello.trust) this.o.onTrustUpdate(hello.trust);
    this.write(link, { frame: { $case: 'helloAck', value: { zoneProxyName: this.o.zoneProxyName, version: this.o.version, serverTime: new Date(this.o.clock.now()), streamsReset: reset } } });
    this.o.log.info({ zoneProxyId: hello.zoneProxyId, moduleServer: link.remote, streamsReset: reset }, 'module server linked');
    link.timer = setInterval(() => {
      if (this.o.clock.now() - link.lastHeard > 3 * link.keepaliveMs) {
        this.endLink(link, status.UNAVAILABLE, `no frame from the module server for ${3 * link.keepaliveMs} ms (3 keepalives missed)`);
      }
    }, link.keepaliveMs);
    link.timer.unref();
    link.activityTimer = setInterval(() => this.write(link, { frame: { $case: 'activity', value: this.activity() } }), this.o.activityIntervalMs ?? 30_000);
    link.activityTimer.unref();
  }

  /** Frames queue for the rest of this event-loop turn and go as one RelayResponse (a batch). */
  private write(link: Link, frame: zp.ZoneProxyFrame): void {
    if (link.ended) return;
    const size = frame.frame?.$case === 'data' ? frame.frame.value.message.length : 0;
    // Keep each batch well under gRPC's default 4 MiB message limit.
    if (link.pendingBytes + size > MAX_BATCH_BYTES) this.flush(link);
    link.pending.push(frame);
    link.pendingBytes += size;
    if (link.pending.length === 1) setImmediate(() => this.flush(link));
  }

  private flush(link: Link): void {
    if (link.ended || link.pending.length === 0) return;
    const frames = link.pending;
    link.pending = [];
    link.pendingBytes = 0;
    link.call.write({ frames });
  }

  private closeStream(link: Link, st: StreamState, code: number, reason: string, tellModuleServer: boolean): void {
    if (st.done) return;
    st.done = true;
    link.streams.delete(st.id);
    if (tellModuleServer) this.write(link, { frame: { $case: 'close', value: { streamId: st.id, statusCode: code, reason } } });
    st.side.finish(code, reason);
  }

  private endLink(link: Link, code: number, reason: string): void {
    if (link.ended) return;
    this.dropLink(link, reason);
    link.call.emit('error', { code, details: reason });
  }

  private dropLink(link: Link, reason: string): void {
    if (link.ended) return;
    link.ended = true;
    clearInterval(link.timer);
    clearInterval(link.activityTimer);
    for (const st of [...link.streams.values()]) {
      st.done = true;
      st.side.finish(status.UNAVAILABLE, `the zone proxy lost its link to the module server (${reason})`);
    }
    link.streams.clear();
    if (this.link === link) {
      this.link = undefined;
      if (link.hello) {
        this.noteError(reason);
        this.o.log.warn({ reason }, 'module server link down');
      }
    }
  }
}
