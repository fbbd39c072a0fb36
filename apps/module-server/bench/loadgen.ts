// Bench: N simulated endpoints in one process, each with its own certificate (client id) and
// control stream, heartbeating at the policy interval, answering Open Session with a session
// stream and pings, and reconnecting like the agent (Goaway delay + jitter, or full-jitter backoff).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type ClientDuplexStream, credentials } from '@grpc/grpc-js';
import { commonV1 as common, gatewayV1 as gateway } from '@dc/proto';
import type { BenchPki } from './bench-pki';

const [dir, address, fromStr, toStr, concurrencyStr] = process.argv.slice(2);
const pkiData = JSON.parse(readFileSync(join(dir!, 'pki.json'), 'utf8')) as BenchPki;
const from = Number(fromStr);
const to = Number(toStr);
const concurrency = Number(concurrencyStr ?? 64);
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

class SimEndpoint {
  private client: gateway.EndpointGatewayServiceClient;
  private attempt = 0;
  private beat?: NodeJS.Timeout;
  constructor(readonly i: number) {
    const e = pkiData.endpoints[i]!;
    this.client = new gateway.EndpointGatewayServiceClient(address!, credentials.createSsl(Buffer.from(pkiData.rootPem), Buffer.from(pkiData.keys[e.keyIndex]!), Buffer.from(e.certPem)), {
      'grpc.use_local_subchannel_pool': 1, 'grpc.enable_channelz': 0, 'grpc.keepalive_time_ms': 120_000, 'grpc.initial_reconnect_backoff_ms': 1000, 'grpc.max_reconnect_backoff_ms': 30_000,
    });
  }
  connect(): Promise<void> {
    return new Promise((resolve) => {
      const e = pkiData.endpoints[this.i]!;
      const call = this.client.controlChannel();
      let open = false;
      let goaway: gateway.Goaway | undefined;
      let settled = false;
      const settle = () => {
        if (!settled) {
          settled = true;
          resolve();
        }
      };
      call.on('data', (m: gateway.ControlChannelResponse) => {
        const msg = m.message;
        if (msg?.$case === 'helloAck') {
          open = true;
          connected++;
          connectsTotal++;
          this.attempt = 0;
          const every = (msg.value.heartbeatPolicy?.interval?.seconds ?? 30) * 1000;
          let seq = 0;
          // first beat at a random point of the interval, so beats spread evenly
          const tick = () => {
            call.write({ message: { $case: 'heartbeat', value: { sequence: ++seq, endpointTime: new Date(), activeSessions: 0 } } });
            this.beat = setTimeout(tick, every);
          };
          this.beat = setTimeout(tick, Math.random() * every);
          settle();
        } else if (msg?.$case === 'goaway') goaway = msg.value;
        else if (msg?.$case === 'ping') call.write({ message: { $case: 'pong', value: { pingId: msg.value.pingId, endpointTime: new Date() } } });
        else if (msg?.$case === 'action' && msg.value.kind?.$case === 'openSession') this.attach(call, msg.value.actionId, msg.value.kind.value.sessionId);
      });
      const ended = () => {
        clearTimeout(this.beat);
        if (open) connected--;
        open = false;
        settle();
        const delay = goaway?.reconnectAfter ? (goaway.reconnectAfter.seconds * 1000 + goaway.reconnectAfter.nanos / 1e6) * (1 + 0.2 * Math.random()) : Math.random() * Math.min(30_000, 1000 * 2 ** this.attempt++);
        setTimeout(() => gate(() => this.connect()), delay);
      };
      call.on('error', ended);
      call.on('end', ended);
      call.write({
        message: {
          $case: 'hello',
          value: gateway.Hello.fromPartial({ clientId: e.clientId, hostName: `host-${this.i}`, ipAddresses: [`10.${(this.i >> 16) & 255}.${(this.i >> 8) & 255}.${this.i & 255}`], os: common.OperatingSystem.OPERATING_SYSTEM_LINUX, endpointTime: new Date() }),
        },
      });
    });
  }
  private attach(control: ClientDuplexStream<gateway.ControlChannelRequest, gateway.ControlChannelResponse>, actionId: string, sessionId: string): void {
    control.write({ message: { $case: 'actionStatus', value: { actionId, status: common.ActionStatus.ACTION_STATUS_RUNNING, detail: '', failureReason: 0, time: new Date() } } });
    const s = this.client.sessionStream();
    s.on('data', (m: gateway.SessionStreamResponse) => {
      if (m.message?.$case === 'request' && m.message.value.payload?.$case === 'ping') {
        s.write({ message: { $case: 'response', value: { requestId: m.message.value.requestId, chunkIndex: 0, last: true, payload: { $case: 'pong', value: { payload: m.message.value.payload.value.payload, endpointTime: new Date() } } } } });
      }
    });
    s.on('error', () => {});
    s.on('end', () => s.end());
    s.write({ message: { $case: 'attach', value: { sessionId, actionId } } });
  }
}

for (let i = from; i < to; i++) {
  const ep = new SimEndpoint(i);
  gate(() => ep.connect());
}
setInterval(() => process.stdout.write(`${JSON.stringify({ t: Date.now(), cpuMs: (process.cpuUsage().user + process.cpuUsage().system) / 1000, connected, connectsTotal, rss: process.memoryUsage().rss })}\n`), 1000);
