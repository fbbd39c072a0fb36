// Test helpers: one mutual-TLS handshake with Node tls, and one with openssl s_server/s_client.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { type AddressInfo } from 'node:net';
import tls from 'node:tls';
import { OPENSSL, writeFiles } from './helpers';

export interface Credentials {
  readonly certPem: string;
  readonly keyPem: string;
}

export interface HandshakeOutcome {
  /** The server accepted the client's certificate; holds the client certificate's subject CN. */
  readonly serverAccepted?: string;
  readonly serverError?: string;
  /** The client accepted the server's certificate (its side of the handshake completed). */
  readonly clientAccepted: boolean;
  readonly clientError?: string;
}

/** Runs one handshake: server requires a client certificate from `serverTrust`, client checks the server against `clientTrust`. */
export async function nodeMutualTls(opts: {
  server: Credentials;
  serverTrust: string;
  crl?: string[];
  client: Credentials;
  clientTrust: string;
  serverName: string;
}): Promise<HandshakeOutcome> {
  let serverAccepted: string | undefined;
  let serverError: string | undefined;
  const server = tls.createServer({
    key: opts.server.keyPem,
    cert: opts.server.certPem,
    ca: opts.serverTrust,
    requestCert: true,
    rejectUnauthorized: true,
    ...(opts.crl ? { crl: opts.crl } : {}),
  });
  const serverDone = new Promise<void>((resolve) => {
    server.on('secureConnection', (socket) => {
      serverAccepted = String(socket.getPeerCertificate().subject?.CN);
      socket.end('hello');
      resolve();
    });
    server.on('tlsClientError', (err, socket) => {
      // Node drops a refused client with a bare hang-up; the reason is on the socket.
      const reason = (socket as tls.TLSSocket & { authorizationError?: string | Error }).authorizationError;
      serverError = reason ? String(reason) : err.message;
      resolve();
    });
    // A client that refuses the server certificate just hangs up.
    server.on('connection', (raw) => raw.on('close', () => resolve()));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  const client = tls.connect({
    host: '127.0.0.1',
    port,
    servername: opts.serverName,
    key: opts.client.keyPem,
    cert: opts.client.certPem,
    ca: opts.clientTrust,
  });
  // Wait for the server's first bytes (or the end): in TLS 1.3 the server checks the client
  // certificate after the client has finished its side of the handshake.
  let secure = false;
  const clientResult = await new Promise<{ ok: boolean; error?: string }>((resolve) => {
    client.on('secureConnect', () => (secure = true));
    client.on('data', () => resolve({ ok: true }));
    client.on('error', (err) => resolve({ ok: false, error: `${(err as NodeJS.ErrnoException).code ?? ''} ${err.message}` }));
    client.on('close', () => resolve({ ok: false, error: 'connection closed' }));
  });
  client.destroy();
  await serverDone;
  server.close();
  return { serverAccepted, serverError, clientAccepted: secure, clientError: clientResult.error };
}

/** openssl s_server (client certificate required) and s_client: exit status and output of both. */
export async function opensslMutualTls(
  dir: string,
  opts: { server: Credentials; client: Credentials; trust: string; serverName: string; crl?: string },
): Promise<{ clientStatus: number | null; clientOutput: string; serverOutput: string }> {
  const p = writeFiles(dir, {
    's-cert.pem': opts.server.certPem,
    's-key.pem': opts.server.keyPem,
    'c-cert.pem': opts.client.certPem,
    'c-key.pem': opts.client.keyPem,
    'trust.pem': opts.trust,
    ...(opts.crl ? { 'crl.pem': opts.crl } : {}),
  });
  const serverArgs = ['s_server', '-accept', '127.0.0.1:0', '-naccept', '1', '-cert', p['s-cert.pem']!, '-key', p['s-key.pem']!];
  serverArgs.push('-CAfile', p['trust.pem']!, '-Verify', '2', '-verify_return_error');
  if (opts.crl) serverArgs.push('-crl_check', '-CRL', p['crl.pem']!);
  const server = spawn(OPENSSL, serverArgs, { stdio: ['pipe', 'pipe', 'pipe'] });
  let serverOutput = '';
  server.stdout.on('data', (d: Buffer) => (serverOutput += d.toString()));
  server.stderr.on('data', (d: Buffer) => (serverOutput += d.toString()));
  const port = await waitFor(() => /ACCEPT 127\.0\.0\.1:(\d+)/.exec(serverOutput)?.[1], 10_000, () => serverOutput);
  const client = spawn(
    OPENSSL,
    ['s_client', '-connect', `127.0.0.1:${port}`, '-cert', p['c-cert.pem']!, '-key', p['c-key.pem']!, '-CAfile', p['trust.pem']!, '-verify_return_error', '-verify_hostname', opts.serverName, '-brief'],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let clientOutput = '';
  client.stdout.on('data', (d: Buffer) => (clientOutput += d.toString()));
  client.stderr.on('data', (d: Buffer) => (clientOutput += d.toString()));
  // Send a line once connected so the server has read from a verified peer, then hang up.
  client.stdin.end('ping\n');
  const [clientStatus] = (await once(client, 'exit')) as [number | null];
  if (server.exitCode === null) {
    const exited = once(server, 'exit');
    setTimeout(() => server.kill('SIGKILL'), 2000).unref();
    await exited;
  }
  return { clientStatus, clientOutput, serverOutput };
}

async function waitFor<T>(probe: () => T | undefined, timeoutMs: number, describe: () => string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out; output so far: ${describe()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
