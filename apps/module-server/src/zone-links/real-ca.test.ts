// Cross-process: the real cert-authority issues the zone proxy's certificates at provisioning,
// and the module server links to the real zone proxy with its CA service certificate.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { caV1, type gatewayV1 as gateway } from '@dc/proto';
import { clientCredentials } from '@dc/service-kit';
import { makeTempDir, spawnService, type SpawnedService, waitFor, workspaceRoot } from '@dc/service-kit/testing';
import forge from 'node-forge';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildZoneProxy, EchoGateway, endpointClient, freePort, MemoryZoneProxySettings, runInstaller, spawnZoneProxy } from './testing/fixtures';
import { GrpcZoneCertificateAuthority, type ZoneProxyRecord } from './zone-proxy-directory';
import { ZoneLinks } from './zone-links';

const CA_ENTRY = join(workspaceRoot, 'apps', 'cert-authority', 'dist', 'main.cjs');

describe('zone proxy provisioning with the real certificate authority', () => {
  const tmp = makeTempDir('dc-zone-real-ca-');
  let caProcess: SpawnedService;
  let proxy: SpawnedService;
  let ca: GrpcZoneCertificateAuthority;
  let links: ZoneLinks;
  let caDir: string;

  beforeAll(async () => {
    if (!existsSync(CA_ENTRY)) execFileSync(process.execPath, [join(workspaceRoot, 'tools', 'build', 'build.mjs'), 'apps/cert-authority'], { cwd: workspaceRoot });
    const entry = buildZoneProxy();
    caDir = join(tmp.dir, 'ca');
    [caProcess, proxy] = await Promise.all([
      spawnService({ entry: CA_ENTRY, args: ['--data-dir', caDir], env: { DC_CA_GRPC__PORT: '0', DC_CA_METRICS__ENABLED: 'false' }, startTimeoutMs: 30_000 }),
      (async () => {
        runInstaller(entry, join(tmp.dir, 'zone'));
        return spawnZoneProxy(entry, join(tmp.dir, 'zone'));
      })(),
    ]);
  }, 90_000);
  afterAll(async () => {
    links?.close();
    ca?.close();
    await Promise.all([caProcess?.stop(), proxy?.stop('SIGKILL')]);
    tmp.remove();
  });

  it('provisions and links with CA-issued certificates naming the record, and relays an endpoint the CA enrolled', async () => {
    const trustPem = readFileSync(join(caDir, 'trust-bundle.pem'), 'utf8');
    const service = {
      caPem: trustPem,
      certPem: readFileSync(join(caDir, 'credentials', 'module-server.cert.pem'), 'utf8'),
      keyPem: readFileSync(join(caDir, 'credentials', 'module-server.key.pem'), 'utf8'),
    };
    const tls = clientCredentials(service, 'localhost');
    ca = new GrpcZoneCertificateAuthority(`127.0.0.1:${caProcess.ports.grpc}`, tls.credentials, undefined, tls.options);
    const payloadText = readFileSync(join(tmp.dir, 'zone', 'settings', 'PROVISION.txt'), 'utf8');
    const der = Buffer.from(/-----BEGIN CERTIFICATE-----\n([^-]+)-----END/.exec(payloadText)![1]!.replace(/\n/g, ''), 'base64');
    const secret = Buffer.from(/-----BEGIN PROVISION SECRET-----\n([^-]+)-----END/.exec(payloadText)![1]!.replace(/\n/g, ''), 'base64');
    const payloadCert = new X509Certificate(der);
    const [endpointPort, linkPort] = [await freePort(), await freePort()];
    const record: ZoneProxyRecord = {
      id: 'zp-real-ca',
      name: 'dmz-1',
      endpointTargetHostname: 'localhost',
      endpointInboundIpAddress: '127.0.0.1',
      endpointInboundPort: endpointPort,
      moduleServerTargetHostname: '127.0.0.1',
      moduleServerInboundIpAddress: '127.0.0.1',
      moduleServerInboundPort: linkPort,
      payloadCertificateFingerprintSha256: payloadCert.fingerprint256.replace(/:/g, '').toLowerCase(),
    };
    const settings = new MemoryZoneProxySettings();
    settings.records.set(record.id, { record, provisionSecret: secret, payloadCertificatePem: payloadCert.toString() });
    const gw = new EchoGateway();
    links = new ZoneLinks({
      settings,
      ca,
      identity: () => ({ certificateChainPem: service.certPem, privateKeyPem: service.keyPem, trustBundlePem: trustPem }),
      gateway: gw,
      log: pino({ level: 'silent' }),
      moduleServerVersion: 'test',
      backoff: { initialMs: 100, maxMs: 500, jitter: 0.2 },
      reportIntervalMs: 0,
      addresses: () => ({ provisioning: `127.0.0.1:${proxy.ports.provisioning}` }),
    });
    await links.refreshTrust();
    links.reconcile([record]);
    await waitFor(() => links.status(record.id)?.status === 'CONNECTED', { timeoutMs: 30_000, what: 'status Connected' });

    // An endpoint certificate from the real CA (SignCsr with an enrolment token), through the proxy.
    const endpoint = await enrolWithRealCa(caProcess.ports.grpc, tls);
    const client = endpointClient(`127.0.0.1:${endpointPort}`, trustPem, endpoint);
    const got = await new Promise<gateway.ControlChannelResponse>((resolve, reject) => {
      const call = client.controlChannel();
      call.on('data', (m: gateway.ControlChannelResponse) => {
        resolve(m);
        call.cancel();
      });
      call.on('error', (e: { code: number }) => (e.code === status.CANCELLED ? undefined : reject(e)));
      call.write({ message: { $case: 'hello', value: { clientId: endpoint.clientId, hostName: 'dmz-host', ipAddresses: [], os: 0, osVersion: '', architecture: '', toolsVersion: '', recorderVersion: '', actionLock: false, configurationRevision: 0, connectFailures: [], deployments: [], tags: [], inFlightActions: [], fqdn: '' } } });
    });
    client.close();
    expect(got.message?.$case === 'helloAck' && got.message.value.clientId).toBe(endpoint.clientId);
    expect(gw.hellos).toMatchObject([{ clientId: endpoint.clientId, route: 'dmz-1' }]);
  }, 60_000);
});

async function enrolWithRealCa(port: number, tls: ReturnType<typeof clientCredentials>): Promise<{ clientId: string; certPem: string; keyPem: string }> {
  const client = new caV1.CertificateAuthorityServiceClient(`127.0.0.1:${port}`, tls.credentials, tls.options);
  const call = <T>(name: string, req: object) =>
    new Promise<T>((resolve, reject) => (client as unknown as Record<string, (r: object, cb: (e: Error | null, v: T) => void) => void>)[name]!(req, (e, v) => (e ? reject(e) : resolve(v))));
  const token = await call<{ secret: string }>('createEnrolmentToken', caV1.CreateEnrolmentTokenRequest.fromPartial({ kind: caV1.EnrolmentTokenKind.ENROLMENT_TOKEN_KIND_ONE_TIME, label: 'zone test' }));
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const csr = forge.pki.createCertificationRequest();
  csr.publicKey = forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }).toString());
  csr.sign(forge.pki.privateKeyFromPem(keyPem), forge.md.sha256.create());
  const signed = await call<{ clientId: string; certificateChainPem: string }>('signCsr', caV1.SignCsrRequest.fromPartial({ csrPem: forge.pki.certificationRequestToPem(csr), enrolmentToken: token.secret, hostName: 'dmz-host' }));
  client.close();
  return { clientId: signed.clientId, certPem: signed.certificateChainPem, keyPem };
}
