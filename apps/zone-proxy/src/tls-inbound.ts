// The zone proxy's provisioned listeners (:17486, :17487) terminate TLS themselves, so that a
// connection can either be relayed as bytes or handed to a gRPC server of the proxy's own
// (ZoneLinkService on :17487; the refusals on :17486) through grpc-js connection injection.
import { createServer, type Server as TlsServer, type TLSSocket } from 'node:tls';
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
