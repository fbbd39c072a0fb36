// Cross-process: the broker enrols, renews and refuses endpoints with certificates from the real
// cert-authority process (apps/cert-authority), authenticating with its service certificate.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import { makeTempDir, spawnService, type SpawnedService, waitFor, workspaceRoot } from '@dc/service-kit/testing';
import { caV1 } from '@dc/proto';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StaticPermissions } from '../api/permission-checker';
import { type Broker, startBroker } from '../broker';
import { CaClient } from '../enrolment/ca-client';
import { StaticSettings } from '../settings-link/settings-source';
import { enrolTestEndpoint, TestEndpoint } from '../testing/test-endpoint';

const CA_ENTRY = join(workspaceRoot, 'apps', 'cert-authority', 'dist', 'main.cjs');

describe('enrolment through the real certificate authority', () => {
  const tmp = makeTempDir('dc-e2e-ca-');
  let caProcess: SpawnedService;
  let caClient: CaClient;
  let broker: Broker;
  beforeAll(async () => {
    if (!existsSync(CA_ENTRY)) execFileSync(process.execPath, [join(workspaceRoot, 'tools', 'build', 'build.mjs'), 'apps/cert-authority'], { cwd: workspaceRoot });
    const caDir = join(tmp.dir, 'ca');
    caProcess = await spawnService({ entry: CA_ENTRY, args: ['--data-dir', caDir], env: { DC_CA_GRPC__PORT: '0', DC_CA_METRICS__ENABLED: 'false' }, startTimeoutMs: 30_000 });
    const port = caProcess.ports.grpc;
    const log = pino({ level: 'silent' });
    const tls = {
      caPem: readFileSync(join(caDir, 'trust-bundle.pem'), 'utf8'),
      certPem: readFileSync(join(caDir, 'credentials', 'module-server.cert.pem'), 'utf8'),
      keyPem: readFileSync(join(caDir, 'credentials', 'module-server.key.pem'), 'utf8'),
    };
    caClient = new CaClient({ address: `127.0.0.1:${port}`, serverName: 'localhost', tls, log });
    const server = await caClient.issueServerCertificate(['localhost', '127.0.0.1']);
    broker = await startBroker({
      dataDir: tmp.dir, log, issuer: caClient, revocation: caClient, settings: new StaticSettings(), permissions: new StaticPermissions({}),
      gateway: { host: '127.0.0.1', port: 0, tls: { caPem: tls.caPem, certPem: server.certPem, keyPem: server.keyPem } },
      api: { host: '127.0.0.1', port: 0 }, version: 'test', shutdownGraceMs: 100, sweepEveryMs: 3_600_000,
    });
  }, 90_000);
  afterAll(async () => {
    await broker?.stop();
    caClient?.close();
    await caProcess?.stop();
    tmp.remove();
  });

  it('enrols an endpoint with a CA token, connects it, renews it and refuses it once revoked', async () => {
    const address = `127.0.0.1:${broker.gatewayPort}`;
    const token = await caClient.createEnrolmentToken('e2e');
    const id = await enrolTestEndpoint(address, await caClient.trustBundle(), token, 'ca-e2e-01');
    expect(id.clientId).toMatch(/^[0-9a-f-]{36}$/);
    const ep = new TestEndpoint(address, id, { hostName: 'ca-e2e-01' });
    await ep.connect();
    expect(broker.registry.require(id.clientId).status).toBe('ONLINE');

    // a used one-time token is refused by the CA, and the broker says so
    await expect(enrolTestEndpoint(address, id.caPem, token, 'ca-e2e-02')).rejects.toMatchObject({ code: status.UNAUTHENTICATED });

    const before = broker.registry.require(id.clientId).certSerial!;
    await ep.renew();
    const renewed = broker.registry.require(id.clientId).certSerial!;
    expect(renewed).not.toBe(before);

    await new Promise((resolve, reject) =>
      caClient.client.revokeCertificate(caV1.RevokeCertificateRequest.fromPartial({ serial: renewed }), (err, r) => (err ? reject(err) : resolve(r))),
    );
    await waitFor(async () => (await caClient.refreshRevocations()) > 0, { what: 'the revocation list' });
    ep.close();
    const again = new TestEndpoint(address, ep.identity, { hostName: 'ca-e2e-01' });
    await expect(again.connect()).rejects.toMatchObject({ code: status.UNAUTHENTICATED, details: 'certificate revoked' });
    again.close();
  });
  it('counts endpoint certificates expiring soon with ListCertificates, and issues a gateway certificate of the asked validity (SPEC 1.4.5)', async () => {
    const in100Days = new Date(Date.now() + 100 * 86_400_000);
    const before = await caClient.countEndpointCertificatesExpiringBefore(in100Days);
    await enrolTestEndpoint(`127.0.0.1:${broker.gatewayPort}`, await caClient.trustBundle(), await caClient.createEnrolmentToken('e2e-count'), 'ca-e2e-count');
    // Endpoint certificates last 90 days: within 100 days, not within one.
    expect(await caClient.countEndpointCertificatesExpiringBefore(in100Days)).toBe(before + 1);
    expect(await caClient.countEndpointCertificatesExpiringBefore(new Date(Date.now() + 86_400_000))).toBe(0);

    const issued = await caClient.issueServerCertificate(['localhost', '127.0.0.1'], 3 * 86_400_000);
    expect(Math.abs(issued.notAfter!.getTime() - (Date.now() + 3 * 86_400_000))).toBeLessThan(10 * 60_000);
  });
});
