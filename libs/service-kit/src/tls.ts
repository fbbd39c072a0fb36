// TLS credentials for gRPC servers and clients from PEM text or files.
import { readFileSync } from 'node:fs';
import { type ChannelOptions, credentials, ServerCredentials, type ChannelCredentials } from '@grpc/grpc-js';

export interface TlsPem {
  /** Trusted roots (the trust bundle), PEM; may hold several certificates. */
  readonly caPem: string;
  /** This side's certificate chain, PEM (leaf first). */
  readonly certPem?: string;
  /** This side's private key, PEM. */
  readonly keyPem?: string;
}

export interface TlsFiles {
  readonly caFile: string;
  readonly certFile?: string;
  readonly keyFile?: string;
}

/** Reads PEM files, with an error naming the file that could not be read. */
export function readTlsFiles(files: TlsFiles): TlsPem {
  const read = (label: string, path: string) => {
    try {
      return readFileSync(path, 'utf8');
    } catch (err) {
      throw new Error(`${label} "${path}": cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
    }
  };
  return {
    caPem: read('tls.caFile', files.caFile),
    certPem: files.certFile ? read('tls.certFile', files.certFile) : undefined,
    keyPem: files.keyFile ? read('tls.keyFile', files.keyFile) : undefined,
  };
}

/** Server credentials; with requireClientCert, only clients with a certificate from caPem connect (mutual TLS). */
export function serverCredentials(pem: TlsPem, requireClientCert: boolean): ServerCredentials {
  if (!pem.certPem || !pem.keyPem) throw new Error('a TLS server needs a certificate and a private key');
  return ServerCredentials.createSsl(
    Buffer.from(pem.caPem),
    [{ cert_chain: Buffer.from(pem.certPem), private_key: Buffer.from(pem.keyPem) }],
    requireClientCert,
  );
}

export interface ClientTls {
  readonly credentials: ChannelCredentials;
  /** Channel options to pass to the client constructor (server name override, if any). */
  readonly options: ChannelOptions;
}

/**
 * Client credentials; with certPem/keyPem the client authenticates itself (mutual TLS).
 * `serverName` checks the server certificate against that name instead of the dialled host.
 */
export function clientCredentials(pem: TlsPem, serverName?: string): ClientTls {
  const creds = credentials.createSsl(
    Buffer.from(pem.caPem),
    pem.keyPem ? Buffer.from(pem.keyPem) : null,
    pem.certPem ? Buffer.from(pem.certPem) : null,
  );
  return { credentials: creds, options: serverName ? { 'grpc.ssl_target_name_override': serverName, 'grpc.default_authority': serverName } : {} };
}
