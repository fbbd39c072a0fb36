// The zone proxy's provisioned listeners (:17486, :17487) terminate TLS themselves, so that a
// connection can either be relayed as bytes or handed to a gRPC server of the proxy's own
// (ZoneLinkService on :17487; the refusals on :17486) through grpc-js connection injection.
import { createServer, type Server as TlsServer, type TLSSocket } from 'node:tls';
import { Server, ServerCredentials } from '@grpc/grpc-js';
import { loadFileDescriptorSetFromBuffer, loadSync, type PackageDefinition } from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { type GrpcServiceBinding, serviceNameOf } from '@dc/service-kit';
import { HealthImplementation, protoPath as healthProtoPath } from 'grpc-health-check';
import type { Logger } from 'pino';

/** A listener of the zone proxy: its bound port and how to stop it. */
export interface Listener {
  readonly port: number;
  shutdown(graceMs?: number): Promise<void>;
}

export interface TlsMaterial {
  readonly certificateChainPem: string;
  readonly privateKeyPem: string;
  /** Roots client certificates are verified against. */
  readonly trustBundlePem: string;
}

/**
 * A TLS listener asking for client certificates without requiring them (each connection is
 * judged by its handler: `socket.authorized`, `getPeerCertificate()`).
 */
export async function listenTls(o: {
  name: string;
  host: string;
  port: number;
  tls: TlsMaterial;
  alpn: string[];
  onConnection: (socket: TLSSocket) => void;
  log: Logger;
}): Promise<Listener> {
  const log = o.log.child({ listener: o.name });
  const sockets = new Set<TLSSocket>();
  const server: TlsServer = createServer(
    {
      cert: o.tls.certificateChainPem,
      key: o.tls.privateKeyPem,
      ca: o.tls.trustBundlePem,
      requestCert: true,
      rejectUnauthorized: false,
      ALPNProtocols: o.alpn,
      minVersion: 'TLSv1.2',
      // Relayed bytes go on at once (small gRPC messages must not wait for Nagle).
      noDelay: true,
    },
    (socket) => {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
      socket.on('error', (err) => log.debug({ err: err.message, remote: socket.remoteAddress }, 'connection error'));
      o.onConnection(socket);
    },
  );
  server.on('tlsClientError', (err, socket) => log.debug({ err: err.message, remote: socket.remoteAddress }, 'TLS handshake failed'));
  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', (err) => reject(new Error(`cannot listen on ${o.host}:${o.port} (${o.name}): ${err.message}`)));
    server.listen(o.port, o.host, () => resolve((server.address() as { port: number }).port));
  });
  server.on('error', (err) => log.error({ err: err.message }, 'listener error'));
  log.info({ host: o.host, port }, 'TLS listener up');
  return {
    port,
    async shutdown(graceMs = 1000) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          for (const s of sockets) s.destroy();
          resolve();
        }, graceMs);
        timer.unref();
        server.close(() => {
          clearTimeout(timer);
          resolve();
        });
        for (const s of sockets) s.end();
      });
    },
  };
}

/** A gRPC server that binds no port: connections already through TLS are injected into it. */
export interface InjectableGrpcServer {
  readonly health: HealthImplementation;
  /** Serves gRPC on a socket whose TLS handshake is done (getAuthContext still sees the certificate). */
  inject(socket: TLSSocket): void;
  setServing(serving: boolean): void;
  close(): void;
}

/** Like service-kit's startGrpcServer (health and reflection beside the services), for injected connections. */
export function injectableGrpcServer(services: readonly GrpcServiceBinding[], descriptorSetBase64: string): InjectableGrpcServer {
  const server = new Server({ 'grpc.keepalive_permit_without_calls': 1 });
  const names = services.map((s) => serviceNameOf(s.definition));
  for (const s of services) server.addService(s.definition, s.implementation);
  const health = new HealthImplementation({ '': 'NOT_SERVING' });
  health.addToServer(server);
  new ReflectionService(reflectionPackage(descriptorSetBase64, names)).addToServer(server);
  // The TLS is ours; grpc-js speaks HTTP/2 over the decrypted socket.
  const injector = server.createConnectionInjector(ServerCredentials.createInsecure());
  const setServing = (serving: boolean) => {
    for (const n of ['', ...names]) health.setStatus(n, serving ? 'SERVING' : 'NOT_SERVING');
  };
  return {
    health,
    inject: (socket) => injector.injectConnection(socket),
    setServing,
    close() {
      setServing(false);
      injector.destroy();
      server.forceShutdown();
    },
  };
}

function reflectionPackage(descriptorSetBase64: string, served: readonly string[]): PackageDefinition {
  const health = loadSync(healthProtoPath, { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true });
  const ours = loadFileDescriptorSetFromBuffer(Buffer.from(descriptorSetBase64, 'base64'), { keepCase: true });
  const filtered: PackageDefinition = {};
  for (const [name, def] of Object.entries(ours)) if ('format' in def || served.includes(name)) filtered[name] = def;
  return { ...filtered, ...health };
}
