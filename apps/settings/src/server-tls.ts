// This service's own TLS: files given in config, or a SERVER certificate the CA issues at start (kept in <dataDir>/tls/).
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ServerCredentials } from '@grpc/grpc-js';
import { readTlsFiles, serverCredentials } from '@dc/service-kit';
import type { Logger } from 'pino';
import type { SettingsConfig } from './config';
import type { CaTrustSource } from './content-build/ca-trust-source';
import { writeFileAtomic } from '@dc/service-kit';

/** A certificate closer than this to its expiry is replaced at start. */
const RENEW_BEFORE_MS = 30 * 86_400_000;

export async function serverTls(
  config: SettingsConfig,
  dataDir: string,
  ca: CaTrustSource | undefined,
  log: Logger,
  now = new Date(),
): Promise<ServerCredentials> {
  const requireClientCert = Boolean(config.tls.caFile);
  if (config.tls.certFile && config.tls.keyFile) {
    return serverCredentials(
      readTlsFiles({ caFile: config.tls.caFile || config.tls.certFile, certFile: config.tls.certFile, keyFile: config.tls.keyFile }),
      requireClientCert,
    );
  }
  const names = config.tls.serverNames;
  if (names.length === 0) return ServerCredentials.createInsecure();
  if (!ca) throw new Error('tls.serverNames needs the certificate authority (ca.address) to issue the server certificate');
  const dir = join(dataDir, 'tls');
  const certFile = join(dir, 'server.cert.pem');
  const keyFile = join(dir, 'server.key.pem');
  if (!usable(certFile, names, now)) {
    const issued = await ca.issueServerCertificate(names);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileAtomic(keyFile, issued.keyPem);
    writeFileAtomic(certFile, issued.certPem, { mode: 0o644 });
    log.info({ certFile, names, notAfter: issued.notAfter.toISOString() }, 'server certificate issued by the certificate authority');
  }
  return serverCredentials(
    { caPem: readFileSync(config.tls.caFile || config.ca.trustBundleFile, 'utf8'), certPem: readFileSync(certFile, 'utf8'), keyPem: readFileSync(keyFile, 'utf8') },
    requireClientCert,
  );
}

/** The stored certificate exists, names every wanted host and is not about to expire. */
function usable(certFile: string, names: string[], now: Date): boolean {
  if (!existsSync(certFile)) return false;
  try {
    const cert = new X509Certificate(readFileSync(certFile));
    const sans = cert.subjectAltName ?? '';
    const covered = names.every((n) => sans.includes(`DNS:${n}`) || sans.includes(`IP Address:${n}`));
    return covered && new Date(cert.validTo).getTime() - now.getTime() > RENEW_BEFORE_MS;
  } catch {
    return false;
  }
}
