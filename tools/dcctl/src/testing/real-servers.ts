// The real processes dcctl's tests talk to: a cert-authority, a module server using it (with
// development tokens instead of settings), and an endpoint agent (`recorder connect`) enrolled
// with a one-time token from that CA.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { credentials, Metadata } from '@grpc/grpc-js';
import { caV1, commonV1 } from '@dc/proto';
import { distEntry, spawnService, type SpawnedService } from '@dc/service-kit/testing';

export interface RealServers {
  readonly ca: SpawnedService;
  readonly ms: SpawnedService;
  readonly caDir: string;
  /** host:port of the module server API (plaintext, bearer tokens). */
  readonly api: string;
  stop(): Promise<void>;
}

/** Starts the CA and the module server under `dir`, the module server accepting `devTokens`. */
export async function startCaAndModuleServer(dir: string, devTokens: Record<string, string>): Promise<RealServers> {
  const caDir = join(dir, 'ca');
  const ca = await spawnService({ entry: distEntry('apps/cert-authority'), env: { DC_CA_DATA_DIR: caDir, DC_CA_GRPC__PORT: '0', DC_CA_METRICS__PORT: '0' } });
  const ms = await spawnService({
    entry: distEntry('apps/module-server'),
    env: {
      DC_MODULE_SERVER_DATA_DIR: join(dir, 'ms'),
      DC_MODULE_SERVER_API__PORT: '0',
      DC_MODULE_SERVER_GATEWAY__PORT: '0',
      DC_MODULE_SERVER_METRICS__PORT: '0',
      DC_MODULE_SERVER_CA__ADDRESS: `127.0.0.1:${ca.ports.grpc}`,
      DC_MODULE_SERVER_CA__CA_FILE: join(caDir, 'trust-bundle.pem'),
      DC_MODULE_SERVER_CA__CERT_FILE: join(caDir, 'credentials', 'module-server.cert.pem'),
      DC_MODULE_SERVER_CA__KEY_FILE: join(caDir, 'credentials', 'module-server.key.pem'),
      DC_MODULE_SERVER_DEV_TOKENS: JSON.stringify(devTokens),
    },
  });
  return {
    ca, ms, caDir, api: `127.0.0.1:${ms.ports.api}`,
    async stop() {
      await ms.stop('SIGKILL');
      await ca.stop('SIGKILL');
    },
  };
}

/**
 * Starts `recorder connect` in `toolsDir` with the package's configuration.json as settings builds
 * it: the module server's gateway, the CA's trust bundle and a one-time enrolment token asked of
 * the CA with the module server's bootstrap credential.
 */
export async function startAgent(servers: RealServers, toolsDir: string, hostName: string): Promise<SpawnedService> {
  const trust = readFileSync(join(servers.caDir, 'trust-bundle.pem'));
  const client = new caV1.CertificateAuthorityServiceClient(
    `127.0.0.1:${servers.ca.ports.grpc}`,
    credentials.createSsl(trust, readFileSync(join(servers.caDir, 'credentials', 'module-server.key.pem')), readFileSync(join(servers.caDir, 'credentials', 'module-server.cert.pem'))),
    { 'grpc.ssl_target_name_override': 'localhost' },
  );
  const secret = await new Promise<string>((resolve, reject) =>
    client.createEnrolmentToken(
      caV1.CreateEnrolmentTokenRequest.fromPartial({ kind: caV1.EnrolmentTokenKind.ENROLMENT_TOKEN_KIND_ONE_TIME, label: `dcctl test ${hostName}` }),
      new Metadata(),
      (err, res) => (err ? reject(err) : resolve(res.secret)),
    ),
  );
  client.close();
  mkdirSync(toolsDir, { recursive: true });
  const configuration = commonV1.EndpointConfiguration.fromPartial({
    revision: 1, brokerHost: '127.0.0.1', brokerPort: servers.ms.ports.gateway, trustBundlePem: trust.toString(), enrolmentToken: secret,
  });
  writeFileSync(join(toolsDir, 'configuration.json'), JSON.stringify(commonV1.EndpointConfiguration.toJSON(configuration)), { mode: 0o600 });
  return spawnService({ entry: distEntry('apps/endpoint-recorder'), args: ['connect', '--config', toolsDir, '--host-name', hostName], startTimeoutMs: 40_000 });
}
