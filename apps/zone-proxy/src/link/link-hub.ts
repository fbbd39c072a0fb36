// The zone proxy's end of the link (:17487): holds the module server's Relay control stream
// (hello, keepalives, activity, trust updates) and relays each endpoint connection of :17486 as
// bytes over a relay connection the module server opens for it on request (dc.zoneproxy.v1
// RelayConnectionRequest; SPEC 1.4.6). TCP backpressure is the flow control.
import type { TLSSocket } from 'node:tls';
import { type ServerDuplexStream, status } from '@grpc/grpc-js';
import { type zoneProxyV1 as zp } from '@dc/proto';
import { decodeRelayPreamble, RELAY_PREAMBLE_BYTES } from '@dc/zone-link';
import type { Logger } from 'pino';

type RelayCall = ServerDuplexStream<zp.RelayRequest, zp.RelayResponse>;

/** Defaults of LinkHello (dc.zoneproxy.v1). */
export const LINK_DEFAULTS = { keepaliveIntervalMs: 15_000 } as const;
/** How long an endpoint connection waits for the module server's relay connection. */
export const RELAY_CONNECT_TIMEOUT_MS = 10_000;
/** After ending a relayed connection (revocation) the module server has this long to send the calls' statuses. */
const END_GRACE_MS = 2000;

/** How an endpoint connection is answered when it cannot be relayed: every call ends with this status. */
export type Refuse = (endpoint: TLSSocket, code: number, reason: string) => void;

export interface LinkHubOptions {
  readonly zoneProxyName: string;
  readonly version: string;
  readonly clock: { now(): number };
  readonly log: Logger;
  /** How often activity figures go to the module server (dc.zoneproxy.v1: every 30 s). */
  readonly activityIntervalMs?: number;
  /** New trust bundle / revocation list from the module server. */
  readonly onTrustUpdate: (u: zp.TrustUpdate) => void;
  /** Serves an endpoint connection that will not be relayed with one gRPC status (no link, the module server refused). */
  readonly refuse: Refuse;
  /** Told when the link comes up or goes down. */
  readonly onLinked?: (linked: boolean) => void;
}

interface Relayed {
  readonly id: number;
  readonly identity: zp.EndpointIdentity;
  readonly endpoint: TLSSocket;
  relay?: TLSSocket;
  timer?: NodeJS.Timeout;
  /** Set once the relay stopped forwarding the endpoint's bytes (revoked). */
  cut?: boolean;
  done: boolean;
}

class Link {
  hello: zp.LinkHello | undefined;
  readonly connections = new Map<number, Relayed>();
  lastHeard: number;
  timer: NodeJS.Timeout | undefined;
  activityTimer: NodeJS.Timeout | undefined;
  ended = false;
  pending: zp.ZoneProxyFrame[] = [];
  constructor(
    readonly call: RelayCall,
    readonly remote: string,
    now: number,
  ) {
    this.lastHeard = now;
  }
  get keepaliveMs(): number {
    const d = this.hello?.keepaliveInterval;
    const ms = d ? d.seconds * 1000 + Math.round(d.nanos / 1e6) : 0;
    return ms > 0 ? ms : LINK_DEFAULTS.keepaliveIntervalMs;
  }
}

export class LinkHub {
  private link: Link | undefined;
  private nextId = 1;
  private readonly counters = { bytesToModuleServer: 0, bytesToEndpoints: 0, lastError: '', lastErrorTime: undefined as Date | undefined, connectedSince: undefined as Date | undefined };
  private closed = false;

  constructor(private readonly o: LinkHubOptions) {}

  get linked(): boolean {
    return Boolean(this.link?.hello && !this.link.ended);
  }

  /**
   * Endpoints connected = relayed connections with a client certificate. Sessions are calls
   * inside the relayed bytes, which only the module server sees: 0 here.
   */
  activity(): zp.GetStatusResponse['activity'] & object {
    let endpoints = 0;
    for (const c of this.link?.connections.values() ?? []) if (c.identity.clientId && c.relay) endpoints++;
    return {
      endpointsConnected: endpoints,
      sessions: 0,
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

  /** An endpoint connection that passed the certificate check: asks the module server for a relay connection. */
  relay(endpoint: TLSSocket, identity: zp.EndpointIdentity): void {
    const link = this.link;
    if (!link || !link.hello || link.ended) {
      this.o.refuse(endpoint, status.UNAVAILABLE, 'the zone proxy has no link to the module server; try again later or another route');
      return;
    }
    endpoint.pause(); // its bytes wait in the socket until the relay connection is there
    const c: Relayed = { id: this.nextId++, identity, endpoint, done: false };
    link.connections.set(c.id, c);
    c.timer = setTimeout(() => this.refuseConnection(link, c, status.UNAVAILABLE, `the module server opened no relay connection within ${RELAY_CONNECT_TIMEOUT_MS} ms`), RELAY_CONNECT_TIMEOUT_MS);
    c.timer.unref();
    endpoint.once('close', () => this.finish(link, c));
    this.write(link, { frame: { $case: 'connectionRequest', value: { connectionId: c.id, identity } } });
  }

  /** A relay connection from the module server (ALPN dc-zone-relay/1, certificate already checked): its preamble names the endpoint connection. */
  acceptRelay(socket: TLSSocket): void {
    let head = Buffer.alloc(0);
    const timer = setTimeout(() => socket.destroy(), RELAY_CONNECT_TIMEOUT_MS);
    timer.unref();
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      if (head.length < RELAY_PREAMBLE_BYTES) return;
      socket.off('data', onData);
      socket.pause();
      clearTimeout(timer);
      const id = decodeRelayPreamble(head);
      const link = this.link;
      const c = id !== undefined ? link?.connections.get(id) : undefined;
      if (!link || !c || c.relay || c.done) {
        this.o.log.warn({ connectionId: id }, 'relay connection for no waiting endpoint connection: closed');
        socket.destroy();
        return;
      }
      clearTimeout(c.timer);
      c.relay = socket;
      const rest = head.subarray(RELAY_PREAMBLE_BYTES);
      if (rest.length > 0) {
        this.counters.bytesToEndpoints += rest.length;
        c.endpoint.write(rest);
      }
      pump(c.endpoint, socket, (n) => (this.counters.bytesToModuleServer += n), () => c.cut === true);
      pump(socket, c.endpoint, (n) => (this.counters.bytesToEndpoints += n), () => false);
      socket.once('close', () => this.finish(link, c));
    };
    socket.on('data', onData);
    socket.once('close', () => clearTimeout(timer));
  }

  /** A new revocation list: relayed connections of certificates now revoked stop at once; their calls end UNAUTHENTICATED. */
  endRevoked(isRevoked: (serial: string) => boolean): number {
    const link = this.link;
    if (!link) return 0;
    let ended = 0;
    for (const c of [...link.connections.values()]) {
      if (c.done || c.cut || !c.identity.certificateSerial || !isRevoked(c.identity.certificateSerial)) continue;
      ended++;
      if (!c.relay) {
        this.refuseConnection(link, c, status.UNAUTHENTICATED, 'certificate revoked');
        continue;
      }
      // Nothing more from the endpoint reaches the module server; the module server ends the
      // connection's calls with the status, and the connection goes after a grace period.
      c.cut = true;
      c.endpoint.pause();
      this.write(link, { frame: { $case: 'connectionEnd', value: { connectionId: c.id, statusCode: status.UNAUTHENTICATED, reason: 'certificate revoked' } } });
      c.timer = setTimeout(() => this.finish(link, c), END_GRACE_MS);
      c.timer.unref();
    }
    return ended;
  }

  reportHandshakeFailure(f: zp.HandshakeFailure): void {
    this.noteError(`endpoint ${f.remoteAddress}: ${f.detail}`);
    if (this.linked) this.write(this.link!, { frame: { $case: 'handshakeFailure', value: f } });
  }

  /** Ends the link and every relayed connection (shutdown, or the proxy was re-installed). */
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
      case 'connectionEnd': {
        const c = link.connections.get(f.value.connectionId);
        if (c) this.refuseConnection(link, c, f.value.statusCode, f.value.reason);
        return;
      }
      case 'keepalive':
        if (!f.value.reply) this.write(link, { frame: { $case: 'keepalive', value: { sequence: f.value.sequence, sentTime: f.value.sentTime, reply: true } } });
        return;
      case 'trustUpdate':
        this.o.onTrustUpdate(f.value);
        return;
      default:
        throw new Error(`${f.$case} frames are no longer relayed (endpoint connections are relayed as bytes)`);
    }
  }

  private accept(link: Link, hello: zp.LinkHello): void {
    link.hello = hello;
    let reset = 0;
    if (this.link && this.link !== link) {
      reset = this.link.connections.size;
      this.endLink(this.link, status.UNAVAILABLE, 'a new link from the module server replaced this one');
    }
    this.link = link;
    this.counters.connectedSince = new Date(this.o.clock.now());
    if (hello.trust) this.o.onTrustUpdate(hello.trust);
    this.write(link, { frame: { $case: 'helloAck', value: { zoneProxyName: this.o.zoneProxyName, version: this.o.version, serverTime: new Date(this.o.clock.now()), streamsReset: reset } } });
    this.o.log.info({ zoneProxyId: hello.zoneProxyId, moduleServer: link.remote, connectionsReset: reset }, 'module server linked');
    this.o.onLinked?.(true);
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
    link.pending.push(frame);
    if (link.pending.length === 1) setImmediate(() => this.flush(link));
  }

  private flush(link: Link): void {
    if (link.ended || link.pending.length === 0) return;
    const frames = link.pending;
    link.pending = [];
    link.call.write({ frames });
  }

  /** An endpoint connection not (or no longer) relayed: still waiting, it gets the status; relayed, it is cut. */
  private refuseConnection(link: Link, c: Relayed, code: number, reason: string): void {
    if (c.done) return;
    if (c.relay) {
      this.finish(link, c);
      return;
    }
    c.done = true;
    clearTimeout(c.timer);
    link.connections.delete(c.id);
    this.o.refuse(c.endpoint, code, reason);
  }

  private finish(link: Link, c: Relayed): void {
    if (c.done) return;
    c.done = true;
    clearTimeout(c.timer);
    link.connections.delete(c.id);
    close(c.endpoint);
    if (c.relay) close(c.relay);
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
    for (const c of [...link.connections.values()]) this.finish(link, c);
    if (this.link === link) {
      this.link = undefined;
      this.o.onLinked?.(false);
      if (link.hello) {
        this.noteError(reason);
        this.o.log.warn({ reason }, 'module server link down');
      }
    }
  }
}

/** Closes a socket: at once, unless it is ending after its last bytes (which are let through first). */
function close(socket: TLSSocket): void {
  if (!socket.writableEnded) socket.destroy();
  else setTimeout(() => socket.destroy(), END_GRACE_MS).unref();
}

/** Bytes a relayed direction may hold in the proxy before it stops reading from its source. */
const MAX_BUFFERED_BYTES = 1 << 20;

/**
 * Copies `from` into `to`, counting bytes; stops forwarding once `cut()` says so. Each chunk is
 * written at once (batching writes per event-loop turn cost more CPU than it saved, measured
 * with the bench); the source pauses while more than MAX_BUFFERED_BYTES wait to be sent.
 */
function pump(from: TLSSocket, to: TLSSocket, count: (n: number) => void, cut: () => boolean): void {
  from.on('data', (chunk: Buffer) => {
    if (cut()) return;
    count(chunk.length);
    to.write(chunk);
    if (to.writableLength > MAX_BUFFERED_BYTES) from.pause();
  });
  to.on('drain', () => {
    if (!cut()) from.resume();
  });
  from.once('end', () => to.end());
  from.resume();
}
