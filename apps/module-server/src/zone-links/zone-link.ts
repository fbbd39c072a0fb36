// The module server's link to one zone proxy (SPEC 1.4.6, DESIGN flow 7): provision it on
// :17488 if needed, hold the mutually authenticated Relay control stream on :17487, open a relay
// connection for each endpoint connection the proxy asks for and serve it with the gateway,
// reconnect with backoff, and keep status and activity.
import { isIP } from 'node:net';
import { checkServerIdentity, connect as tlsConnect, type PeerCertificate, type TLSSocket } from 'node:tls';
import { type ClientDuplexStream, credentials, Metadata, status as grpcStatus } from '@grpc/grpc-js';
import { zoneProxyV1 as zp } from '@dc/proto';
import { encodeRelayPreamble, RELAY_ALPN } from '@dc/zone-link';
import type { Logger } from 'pino';
import { type BackoffPolicy, backoffDelay, DEFAULT_BACKOFF } from './backoff';
import { AlreadyProvisioned, hostForUri, ProvisioningRefused, provisionZoneProxy } from './provisioning-client';
import { endRelayedCalls, type RelayServer } from './relay-server';
import { markRelayedConnection, type RelayedConnection } from './relayed-peer';
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
  /** Serves relay connections with the gateway's handlers. */
  readonly relay: RelayServer;
  readonly log: Logger;
  readonly clock: { now(): number };
  readonly random: () => number;
  readonly moduleServerVersion: string;
  readonly backoff?: BackoffPolicy;
  /** LinkHello parameter. */
  readonly keepaliveIntervalMs?: number;
  /** Current trust to send in LinkHello. */
  readonly trust: () => zp.TrustUpdate | undefined;
  /** Told after every status or activity change (reporting to settings, metrics). */
  readonly onChange?: (view: ZoneLinkStatusView) => void;
  /** Overrides of where to dial (tests; DNS-less setups). Default: Module Server Target Hostname. */
  readonly addresses?: { provisioning?: string; link?: string };
}

type RelayStream = ClientDuplexStream<zp.RelayRequest, zp.RelayResponse>;

/** A relay connection: one endpoint connection relayed by the zone proxy, served by the gateway. */
interface LiveRelay {
  readonly socket: TLSSocket;
  readonly connection: RelayedConnection;
}

/** How long the calls of a connection the zone proxy ended (revocation) have to send their statuses before it closes. */
const END_GRACE_MS = 300;

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
  private readonly relays = new Map<number, LiveRelay>();
  /** Bytes of relay connections already closed. */
  private readonly closedBytes = { read: 0, written: 0 };
  private lastHeard = 0;
  private keepaliveSeq = 0;
  private readonly counters = { lastError: '', lastErrorTime: undefined as Date | undefined, connectedSince: undefined as Date | undefined };
  private provisioned = false;
  private pending: zp.ModuleServerFrame[] = [];
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
    let read = this.closedBytes.read;
    let written = this.closedBytes.written;
    for (const r of this.relays.values()) {
      for (const method of r.connection.calls.values()) {
        if (method === 'controlChannel') endpoints++;
        else sessions++;
      }
      read += r.socket.bytesRead;
      written += r.socket.bytesWritten;
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
        bytesToModuleServer: read,
        bytesToEndpoints: written,
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

  /** The link-facing certificate must be this zone proxy's, not just any our CA issued. */
  private readonly checkServer = (host: string, cert: PeerCertificate): Error | undefined => {
    const name = this.record.name;
    if (!(cert.subjectaltname ?? '').split(/,\s*/).includes(`URI:urn:dc:zone-proxy:${name}`)) {
      return new Error(`the server at ${host} is not zone proxy "${name}" (no urn:dc:zone-proxy:${name} in its certificate)`);
    }
    return this.deps.addresses?.link ? undefined : checkServerIdentity(host, cert);
  };

  /** Where the zone proxy's Module Server Inbound Port is: the record's target hostname, or the override. */
  private linkTarget(): { host: string; port: number } {
    const override = this.deps.addresses?.link;
    if (!override) return { host: this.record.moduleServerTargetHostname, port: this.record.moduleServerInboundPort };
    const i = override.lastIndexOf(':');
    return { host: override.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(override.slice(i + 1)) };
  }

  private connect(): void {
    const id = this.deps.identity();
    const creds = credentials.createSsl(Buffer.from(id.trustBundlePem), Buffer.from(id.privateKeyPem), Buffer.from(id.certificateChainPem), { checkServerIdentity: this.checkServer });
    const target = this.linkTarget();
    const address = this.deps.addresses?.link ?? `${hostForUri(target.host)}:${target.port}`;
    this.client?.close();
    this.client = new zp.ZoneLinkServiceClient(address, creds, { 'grpc.keepalive_time_ms': 30_000 });
    const stream = this.client.relay(new Metadata());
    this.stream = stream;
    this.lastHeard = this.deps.clock.now();
    let acked = false;
    const keepaliveMs = this.deps.keepaliveIntervalMs ?? 15_000;
    this.pending = [];
    this.write({
      frame: {
        $case: 'hello',
        value: {
          zoneProxyId: this.record.id,
          moduleServerVersion: this.deps.moduleServerVersion,
          // Deprecated with the message relay: relay connections are flow-controlled by TCP.
          initialWindowBytes: 0,
          maxMessageBytes: 0,
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
    for (const r of this.relays.values()) r.socket.destroy();
    this.relays.clear();
    stream?.cancel();
    if (reason) this.log.debug({ reason }, 'relay connections closed');
  }

  /** Frames queue for the rest of this event-loop turn and go as one RelayRequest (a batch). */
  private write(frame: zp.ModuleServerFrame): void {
    if (!this.stream) return;
    this.pending.push(frame);
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
    if (this.stream && frames.length > 0) this.stream.write({ frames });
  }

  private onFrame(f: NonNullable<zp.ZoneProxyFrame['frame']>): void {
    switch (f.$case) {
      case 'connectionRequest':
        return this.openRelay(f.value);
      case 'connectionEnd': {
        // The zone proxy stopped relaying this endpoint (its certificate was revoked): its calls
        // end with the status, then the connection closes.
        const r = this.relays.get(f.value.connectionId);
        if (!r) return;
        const ended = endRelayedCalls(r.connection, f.value.statusCode, f.value.reason);
        this.log.info({ clientId: r.connection.peer.clientId, callsEnded: ended, reason: f.value.reason }, 'relayed connection ended by the zone proxy');
        setTimeout(() => r.socket.end(), END_GRACE_MS).unref();
        return;
      }
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
      case 'open':
        // A zone proxy from before the byte relay: its endpoints get a clear status, not silence.
        this.write({ frame: { $case: 'close', value: { streamId: f.value.streamId, statusCode: grpcStatus.UNIMPLEMENTED, reason: 'this module server relays endpoint connections as bytes: upgrade the zone proxy' } } });
        return;
      default:
        this.log.warn({ frame: f.$case }, 'frame of the message relay ignored (endpoint connections are relayed as bytes)');
    }
  }

  /** The zone proxy accepted an endpoint connection: open a relay connection for it and serve it with the gateway. */
  private openRelay(req: zp.RelayConnectionRequest): void {
    const connectionId = req.connectionId;
    const refuse = (code: number, reason: string) => this.write({ frame: { $case: 'connectionEnd', value: { connectionId, statusCode: code, reason } } });
    const identity = req.identity;
    if (!identity) return refuse(grpcStatus.UNAUTHENTICATED, 'RelayConnectionRequest carries no endpoint identity');
    if (this.relays.has(connectionId)) return refuse(grpcStatus.INVALID_ARGUMENT, `relay connection ${connectionId} is already open`);
    const id = this.deps.identity();
    const target = this.linkTarget();
    const socket = tlsConnect({
      host: target.host,
      port: target.port,
      servername: isIP(target.host) ? undefined : target.host,
      ca: id.trustBundlePem,
      cert: id.certificateChainPem,
      key: id.privateKeyPem,
      ALPNProtocols: [RELAY_ALPN],
      checkServerIdentity: this.checkServer,
    });
    socket.setNoDelay(true);
    const connection: RelayedConnection = {
      peer: {
        clientId: identity.clientId,
        serial: identity.certificateSerial,
        notAfter: identity.certificateNotAfter?.getTime() ?? 0,
        fingerprintSha256: identity.certificateFingerprintSha256,
        remoteAddress: identity.remoteAddress,
        route: this.record.name,
        zoneProxyId: this.record.id,
      },
      calls: new Map(),
      changed: () => this.deps.onChange?.(this.view()),
    };
    const relay: LiveRelay = { socket, connection };
    this.relays.set(connectionId, relay);
    const stream = this.stream;
    let served = false;
    socket.once('secureConnect', () => {
      if (this.stream !== stream) return void socket.destroy();
      if (socket.alpnProtocol !== RELAY_ALPN) {
        socket.destroy();
        return refuse(grpcStatus.UNAVAILABLE, `the zone proxy did not accept a relay connection (ALPN ${String(socket.alpnProtocol)})`);
      }
      presentAs(socket, identity.remoteAddress);
      markRelayedConnection(socket, connection);
      served = true;
      // HTTP/2 takes the socket over only once this write is done (Node asserts that no write of
      // its own is in flight); what the proxy sends meanwhile waits in the socket.
      socket.write(encodeRelayPreamble(connectionId), (err) => {
        if (!err && !socket.destroyed) this.deps.relay.serve(socket);
      });
    });
    socket.on('error', (err) => {
      if (served) return;
      this.log.warn({ err: err.message, connectionId }, 'cannot open a relay connection');
      refuse(grpcStatus.UNAVAILABLE, `the module server cannot open a relay connection to the zone proxy: ${err.message}`);
    });
    socket.once('close', () => {
      if (this.relays.get(connectionId) !== relay) return;
      this.relays.delete(connectionId);
      this.closedBytes.read += socket.bytesRead;
      this.closedBytes.written += socket.bytesWritten;
    });
  }
}

/**
 * The relay connection's socket answers for the endpoint's address (as the zone proxy saw it),
 * so the gateway's call.getPeer() names the endpoint, as on a direct connection, not the proxy.
 */
function presentAs(socket: TLSSocket, remote: string): void {
  const i = remote.lastIndexOf(':');
  if (i <= 0) return;
  const address = remote.slice(0, i).replace(/^\[|\]$/g, '');
  Object.defineProperties(socket, {
    remoteAddress: { value: address },
    remotePort: { value: Number(remote.slice(i + 1)) },
    remoteFamily: { value: isIP(address) === 6 ? 'IPv6' : 'IPv4' },
  });
}

function describe(err: unknown): string {
  const e = err as { code?: number; details?: string; message?: string };
  if (typeof e.code === 'number' && e.details) return `${grpcStatus[e.code] ?? e.code}: ${e.details}`;
  return e.message ?? String(err);
}
