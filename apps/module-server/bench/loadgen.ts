// Bench: N simulated endpoints in one process, each with its own certificate (client id) and
// control stream, heartbeating at the policy interval, answering Open Session with a session
// stream and pings, and reconnecting like the agent (Goaway delay + jitter, or full-jitter backoff).
// Speaks gRPC straight on node:http2 + node:tls (one HTTP/2 session per endpoint, messages in the
// 5-byte gRPC framing, ts-proto codecs) instead of a grpc-js client per endpoint, so the load
// generator costs less CPU per connect than the broker it measures.
// Usage (from broker-load.ts): loadgen.ts <dir with pki.json> <host:port> <from> <to> [concurrency=64]
// Prints {t, cpuMs, connected, connectsTotal, rss} each second.
import { readFileSync } from 'node:fs';
import http2 from 'node:http2';
import { join } from 'node:path';
import tls from 'node:tls';
import { commonV1 as common, gatewayV1 as gateway } from '@dc/proto';
import type { BenchPki } from './bench-pki';

const [dir, address, fromStr, toStr, concurrencyStr] = process.argv.slice(2);
const pkiData = JSON.parse(readFileSync(join(dir!, 'pki.json'), 'utf8')) as BenchPki;
const from = Number(fromStr);
const to = Number(toStr);
const concurrency = Number(concurrencyStr ?? 64);
const portSep = address!.lastIndexOf(':');
const host = address!.slice(0, portSep);
const port = Number(address!.slice(portSep + 1));
const authority = `https://${address}`;
const SERVICE = '/dc.gateway.v1.EndpointGatewayService';
const { HTTP2_HEADER_METHOD, HTTP2_HEADER_PATH, HTTP2_HEADER_CONTENT_TYPE, HTTP2_HEADER_TE } = http2.constants;
const controlHeaders = { [HTTP2_HEADER_METHOD]: 'POST', [HTTP2_HEADER_PATH]: `${SERVICE}/ControlChannel`, [HTTP2_HEADER_CONTENT_TYPE]: 'application/grpc', [HTTP2_HEADER_TE]: 'trailers' };
const sessionHeaders = { ...controlHeaders, [HTTP2_HEADER_PATH]: `${SERVICE}/SessionStream` };

let connected = 0;
let connectsTotal = 0;
let inFlightConnects = 0;
const queue: Array<() => void> = [];

function gate(fn: () => Promise<void>): void {
  const run = () => {
    inFlightConnects++;
    void fn().finally(() => {
      inFlightConnects--;
      queue.shift()?.();
    });
  };
  if (inFlightConnects < concurrency) run();
  else queue.push(run);
}

// Each distinct failure once on stderr, so a broken run says why without flooding the output;
// the ways a connection ends when the broker goes away (restart, Goaway) are expected, not noted.
const EXPECTED = /ECONNREFUSED|ECONNRESET|EPIPE|ERR_HTTP2_STREAM_CANCEL|ERR_HTTP2_GOAWAY_SESSION|ERR_HTTP2_SESSION_ERROR|ERR_HTTP2_STREAM_ERROR|grpc-status 14 /;
const seenFailures = new Set<string>();
function noteFailure(what: string): void {
  if (EXPECTED.test(what) || seenFailures.has(what) || seenFailures.size > 50) return;
  seenFailures.add(what);
  process.stderr.write(`loadgen: ${what}\n`);
}

/** A gRPC message: 0 (not compressed), uint32 BE length, the protobuf bytes. */
function frame(bytes: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(5 + bytes.length);
  out[0] = 0;
  out.writeUInt32BE(bytes.length, 1);
  out.set(bytes, 5);
  return out;
}

/**
 * Calls `onMessage` with each whole gRPC message in a stream's data, whether a message spans
 * chunks or a chunk holds several. A compressed message (never asked for) fails the stream.
 */
function readMessages(stream: http2.ClientHttp2Stream, onMessage: (bytes: Buffer) => void): void {
  let pending: Buffer | undefined;
  stream.on('data', (chunk: Buffer) => {
    let buf = pending ? Buffer.concat([pending, chunk]) : chunk;
    pending = undefined;
    while (buf.length >= 5) {
      const length = buf.readUInt32BE(1);
      if (buf.length < 5 + length) break;
      if (buf[0] !== 0) {
        noteFailure(`compressed gRPC message (flag ${buf[0]}) on ${stream.sentHeaders[HTTP2_HEADER_PATH]}`);
        stream.close(http2.constants.NGHTTP2_PROTOCOL_ERROR);
        return;
      }
      onMessage(buf.subarray(5, 5 + length));
      buf = buf.subarray(5 + length);
    }
    if (buf.length > 0) pending = Buffer.from(buf); // a copy: the chunk's memory is not kept alive
  });
}

/** Notes a non-OK grpc-status, whether in trailers or in a trailers-only response. */
function watchStatus(stream: http2.ClientHttp2Stream): void {
  const check = (headers: http2.IncomingHttpHeaders) => {
    const status = headers['grpc-status'];
    if (status !== undefined && status !== '0') noteFailure(`${stream.sentHeaders[HTTP2_HEADER_PATH]}: grpc-status ${String(status)} ${decodeURIComponent(String(headers['grpc-message'] ?? ''))}`);
  };
  stream.on('response', (headers) => {
    if (headers[':status'] !== 200) noteFailure(`${stream.sentHeaders[HTTP2_HEADER_PATH]}: HTTP status ${headers[':status']}`);
    check(headers);
  });
  stream.on('trailers', check);
}

class SimEndpoint {
  private secureContext?: tls.SecureContext;
  private session?: http2.ClientHttp2Session;
  private attempt = 0;
  private beat?: NodeJS.Timeout;
  constructor(readonly i: number) {}

  /** The endpoint's HTTP/2 connection: the open one, else a new mutual-TLS one. */
  private connection(): http2.ClientHttp2Session {
    if (this.session && !this.session.closed && !this.session.destroyed) return this.session;
    if (!this.secureContext) {
      // Built once per endpoint (0.7 ms: OpenSSL parses the key and certificate), kept for reconnects.
      const e = pkiData.endpoints[this.i]!;
      this.secureContext = tls.createSecureContext({ cert: e.certPem, key: pkiData.keys[e.keyIndex]! });
    }
    const secureContext = this.secureContext;
    const session = http2.connect(authority, {
      // The load generator does not verify the broker's certificate (no CA, rejectUnauthorized
      // false): Node's chain and host name check costs ~0.7 ms of the load generator's CPU per
      // connect and nothing on the broker's side, which still runs the full mutual-TLS handshake
      // and verifies every endpoint's certificate, as measured.
      createConnection: () => tls.connect({ host, port, secureContext, servername: 'localhost', ALPNProtocols: ['h2'], rejectUnauthorized: false }),
      settings: { enablePush: false },
    });
    session.on('error', (err: NodeJS.ErrnoException) => noteFailure(`connection: ${err.code ?? err.message}`));
    session.on('goaway', () => {
      if (this.session === session) this.session = undefined; // no new streams on it
    });
    session.on('close', () => {
      if (this.session === session) this.session = undefined;
    });
    this.session = session;
    return session;
  }

  connect(): Promise<void> {
    return new Promise((resolve) => {
      const e = pkiData.endpoints[this.i]!;
      const session = this.connection();
      const call = session.request(controlHeaders, { endStream: false });
      const send = (m: gateway.ControlChannelRequest) => {
        if (call.writable) call.write(frame(gateway.ControlChannelRequest.encode(m).finish()));
      };
      let open = false;
      let goaway: gateway.Goaway | undefined;
      let settled = false;
      const settle = () => {
        if (!settled) {
          settled = true;
          resolve();
        }
      };
      watchStatus(call);
      readMessages(call, (bytes) => {
        const msg = gateway.ControlChannelResponse.decode(bytes).message;
        if (msg?.$case === 'helloAck') {
          open = true;
          connected++;
          connectsTotal++;
          this.attempt = 0;
          const every = (msg.value.heartbeatPolicy?.interval?.seconds ?? 30) * 1000;
          let seq = 0;
          // first beat at a random point of the interval, so beats spread evenly
          const tick = () => {
            send({ message: { $case: 'heartbeat', value: { sequence: ++seq, endpointTime: new Date(), activeSessions: 0 } } });
            this.beat = setTimeout(tick, every);
          };
          this.beat = setTimeout(tick, Math.random() * every);
          settle();
        } else if (msg?.$case === 'goaway') goaway = msg.value;
        else if (msg?.$case === 'ping') send({ message: { $case: 'pong', value: { pingId: msg.value.pingId, endpointTime: new Date() } } });
        else if (msg?.$case === 'action' && msg.value.kind?.$case === 'openSession') {
          send({ message: { $case: 'actionStatus', value: { actionId: msg.value.actionId, status: common.ActionStatus.ACTION_STATUS_RUNNING, detail: '', failureReason: 0, time: new Date() } } });
          this.attach(session, msg.value.actionId, msg.value.kind.value.sessionId);
        }
      });
      call.on('error', (err: NodeJS.ErrnoException) => noteFailure(`control channel: ${err.code ?? err.message}`));
      // 'close' comes once, after the stream ends, is reset, or its connection closes.
      call.on('close', () => {
        clearTimeout(this.beat);
        if (open) connected--;
        open = false;
        settle();
        const delay = goaway?.reconnectAfter ? (goaway.reconnectAfter.seconds * 1000 + goaway.reconnectAfter.nanos / 1e6) * (1 + 0.2 * Math.random()) : Math.random() * Math.min(30_000, 1000 * 2 ** this.attempt++);
        setTimeout(() => gate(() => this.connect()), delay);
      });
      call.on('end', () => call.end()); // the broker ended: end our half too
      send({
        message: {
          $case: 'hello',
          value: gateway.Hello.fromPartial({ clientId: e.clientId, hostName: `host-${this.i}`, ipAddresses: [`10.${(this.i >> 16) & 255}.${(this.i >> 8) & 255}.${this.i & 255}`], os: common.OperatingSystem.OPERATING_SYSTEM_LINUX, endpointTime: new Date() }),
        },
      });
    });
  }

  private attach(session: http2.ClientHttp2Session, actionId: string, sessionId: string): void {
    if (session.closed || session.destroyed) return;
    const s = session.request(sessionHeaders, { endStream: false });
    const send = (m: gateway.SessionStreamRequest) => {
      if (s.writable) s.write(frame(gateway.SessionStreamRequest.encode(m).finish()));
    };
    watchStatus(s);
    readMessages(s, (bytes) => {
      const m = gateway.SessionStreamResponse.decode(bytes);
      if (m.message?.$case === 'request' && m.message.value.payload?.$case === 'ping') {
        send({ message: { $case: 'response', value: { requestId: m.message.value.requestId, chunkIndex: 0, last: true, payload: { $case: 'pong', value: { payload: m.message.value.payload.value.payload, endpointTime: new Date() } } } } });
      }
    });
    s.on('error', (err: NodeJS.ErrnoException) => noteFailure(`session stream: ${err.code ?? err.message}`));
    s.on('end', () => s.end());
    send({ message: { $case: 'attach', value: { sessionId, actionId } } });
  }
}

for (let i = from; i < to; i++) {
  const ep = new SimEndpoint(i);
  gate(() => ep.connect());
}
setInterval(() => {
  const cpu = process.cpuUsage();
  process.stdout.write(`${JSON.stringify({ t: Date.now(), cpuMs: (cpu.user + cpu.system) / 1000, connected, connectsTotal, rss: process.memoryUsage().rss })}\n`);
}, 1000);
