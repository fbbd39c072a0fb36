// Bench baseline: the least a gateway can do per endpoint with grpc-js — the same mutual-TLS
// server (through service-kit, as the broker's) answering Hello with HelloAck and heartbeats with
// acks, and nothing else: no registry, presence, events or sessions. The broker's CPU per connect
// is judged against this one's, measured in the same run with the same load generator.
// Usage (from broker-load.ts): bare-gateway.ts <dir with pki.json> <port>
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type ServerDuplexStream, ServerCredentials } from '@grpc/grpc-js';
import pino from 'pino';
import { gatewayV1 as gateway } from '@dc/proto';
import { startGrpcServer, tlsSocketOf } from '@dc/service-kit';
import type { BenchPki } from './bench-pki';

const [dir, port] = process.argv.slice(2);
const pki = JSON.parse(readFileSync(join(dir!, 'pki.json'), 'utf8')) as BenchPki;
let channels = 0;

const unimplemented = (_call: unknown, cb: (err: Error) => void) => cb(new Error('bench: not served'));
void (async () => {
  await startGrpcServer({
    name: 'bare-gateway', host: '127.0.0.1', port: Number(port), log: pino({ level: 'warn' }),
    credentials: ServerCredentials.createSsl(Buffer.from(pki.rootPem), [{ private_key: Buffer.from(pki.server.keyPem), cert_chain: Buffer.from(pki.server.certPem) }], true),
    services: [{
      definition: gateway.EndpointGatewayServiceService,
      implementation: {
        enrol: unimplemented,
        renewCertificate: unimplemented,
        sessionStream: (call: ServerDuplexStream<gateway.SessionStreamRequest, gateway.SessionStreamResponse>) => call.end(),
        controlChannel: (call: ServerDuplexStream<gateway.ControlChannelRequest, gateway.ControlChannelResponse>) => {
          const cert = tlsSocketOf(call)?.getPeerCertificate(); // the broker reads it too
          let open = false;
          call.on('data', (req: gateway.ControlChannelRequest) => {
            const m = req.message;
            if (m?.$case === 'hello') {
              open = true;
              channels++;
              call.write({ message: { $case: 'helloAck', value: gateway.HelloAck.fromPartial({ serverTime: new Date(), clientId: String(cert?.subject?.CN ?? m.value.clientId), heartbeatPolicy: { interval: { seconds: 30, nanos: 0 }, missedHeartbeatsBeforeOffline: 3 } }) } });
            } else if (m?.$case === 'heartbeat') call.write({ message: { $case: 'heartbeatAck', value: { sequence: m.value.sequence, serverTime: new Date() } } });
          });
          const closed = () => {
            if (open) channels--;
            open = false;
          };
          call.on('end', () => {
            closed();
            call.end();
          });
          call.on('cancelled', closed);
          call.on('error', closed);
        },
      },
    }],
  });
  setInterval(() => {
    const cpu = process.cpuUsage();
    process.stdout.write(`${JSON.stringify({ t: Date.now(), cpuMs: (cpu.user + cpu.system) / 1000, rss: process.memoryUsage().rss, channels })}\n`);
  }, 1000).unref();
  process.on('SIGTERM', () => process.exit(0));
  setInterval(() => {}, 1 << 30);
})();
