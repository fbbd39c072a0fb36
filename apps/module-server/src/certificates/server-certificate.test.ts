import { LiveServerCredentials } from '@dc/service-kit';
import { X509Certificate } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normaliseSerial } from '../enrolment/certificate-issuer';
import { type Harness, startHarness, TOKENS, unary } from '../testing/broker-harness';
import pino from 'pino';
import { makeTempDir } from '@dc/service-kit/testing';
import { CaClient } from '../enrolment/ca-client';
import { ServerCertificates, summarise } from './server-certificate';

/** The serial a new TLS handshake with the gateway sees, verified against the test root for "localhost". */
function handshakeSerial(port: number, caPem: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, ca: caPem, servername: 'localhost', ALPNProtocols: ['h2'] }, () => {
      const serial = socket.getPeerCertificate().serialNumber;
      socket.destroy();
      resolve(normaliseSerial(serial));
    });
    socket.on('error', reject);
  });
}

describe('server certificates (SPEC 1.4.5)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  it('GetCertificates shows the gateway certificate, the roots and the endpoint certificates expiring within 30 days', async () => {
    const api = h.api(TOKENS.readonly);
    const get = () => unary(api.admin.getCertificates.bind(api.admin), {}, api.metadata);
    const before = await get();
    const served = await handshakeSerial(h.broker.gatewayPort, h.ca.rootPem);
    expect(before.serverCertificate?.serial).toBe(served);
    expect(before.serverCertificate?.ipAddresses).toContain('127.0.0.1');
    expect(before.serverCertificate?.dnsNames).toContain('localhost');
    expect(before.serverCertificate!.notAfter!.getTime()).toBeGreaterThan(Date.now());
    expect(before.serverCertificate?.fingerprintSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(before.roots.map((r) => r.subject)).toEqual(['CN=DC Test Root']);

    h.ca.endpointValidity = { notAfter: new Date(Date.now() + 10 * 86_400_000) };
    await h.endpoint('ws-expiring');
    h.ca.endpointValidity = { notAfter: new Date(Date.now() + 60 * 86_400_000) };
    await h.endpoint('ws-later');
    h.ca.endpointValidity = {};
    const after = await get();
    // 10 days counts; 60 days does not.
    expect(after.endpointCertificatesExpiring).toBe(before.endpointCertificatesExpiring + 1);
  });

  it('RenewServerCertificate serves a new certificate to new handshakes while a connected endpoint stays connected', async () => {
    const ep = await h.endpoint('ws-stays');
    const id = ep.identity.clientId;
    const oldSerial = await handshakeSerial(h.broker.gatewayPort, h.ca.rootPem);
    const eventsBefore = h.broker.events.list({ clientId: id }).map((e) => e.kind);

    const api = h.api(TOKENS.admin);
    const res = await unary(api.admin.renewServerCertificate.bind(api.admin), { validity: { seconds: 2 * 86_400, nanos: 0 } }, api.metadata);
    const renewed = res.serverCertificate!;
    expect(renewed.serial).not.toBe(oldSerial);
    expect(Math.abs(renewed.notAfter!.getTime() - (Date.now() + 2 * 86_400_000))).toBeLessThan(120_000);

    // New handshakes see the new certificate, at once and without a restart.
    expect(await handshakeSerial(h.broker.gatewayPort, h.ca.rootPem)).toBe(renewed.serial);
    // The connected endpoint kept its control channel: it answers a ping and never disconnected.
    expect(h.broker.hub.isConnected(id)).toBe(true);
    await expect(h.broker.hub.ping(id, 10_000)).resolves.toMatchObject({ rttMs: expect.any(Number) });
    expect(h.broker.events.list({ clientId: id }).map((e) => e.kind)).toEqual(eventsBefore);
    // A new endpoint connects through the new certificate.
    const fresh = await h.endpoint('ws-after-renewal');
    expect(h.broker.hub.isConnected(fresh.identity.clientId)).toBe(true);

    // Kept in <dataDir>/tls for the next start: the pair matches, the key is private.
    const certPem = readFileSync(join(h.dataDir, 'tls', 'gateway.cert.pem'), 'utf8');
    expect(summarise(certPem).serial).toBe(renewed.serial);
    const keyFile = join(h.dataDir, 'tls', 'gateway.key.pem');
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    const { createPrivateKey } = await import('node:crypto');
    expect(new X509Certificate(certPem).checkPrivateKey(createPrivateKey(readFileSync(keyFile, 'utf8')))).toBe(true);

    const shown = await unary(api.admin.getCertificates.bind(api.admin), {}, api.metadata);
    expect(shown.serverCertificate?.serial).toBe(renewed.serial);
  });

  it('refuses renewal without SETTINGS_WRITE and a validity beyond 825 days, leaving the certificate as it was', async () => {
    const served = await handshakeSerial(h.broker.gatewayPort, h.ca.rootPem);
    const ro = h.api(TOKENS.readonly);
    await expect(unary(ro.admin.renewServerCertificate.bind(ro.admin), {}, ro.metadata)).rejects.toMatchObject({ code: status.PERMISSION_DENIED });
    const admin = h.api(TOKENS.admin);
    await expect(unary(admin.admin.renewServerCertificate.bind(admin.admin), { validity: { seconds: 900 * 86_400, nanos: 0 } }, admin.metadata)).rejects.toMatchObject({
      code: status.INVALID_ARGUMENT,
      details: expect.stringMatching(/validity.*825 days/),
    });
    expect(await handshakeSerial(h.broker.gatewayPort, h.ca.rootPem)).toBe(served);
  });

  it('reports an unreachable CA as UNAVAILABLE naming what failed, and keeps the certificate and its files', async () => {
    const tmp = makeTempDir('dc-cert-noca-');
    const log = pino({ level: 'silent' });
    const pair = h.ca.serverCertificate();
    // A real CA client to a port nothing listens on.
    const ca = new CaClient({ address: '127.0.0.1:1', tls: { caPem: h.ca.rootPem }, log });
    try {
      const tls = new LiveServerCredentials(h.ca.rootPem, pair.certPem, pair.keyPem);
      const certs = new ServerCertificates({ tls, trustBundlePem: h.ca.rootPem, ca, names: ['localhost'], tlsDir: join(tmp.dir, 'tls'), log });
      await expect(certs.renew()).rejects.toMatchObject({ code: status.UNAVAILABLE, message: expect.stringMatching(/could not issue a new gateway certificate/) });
      await expect(certs.overview(new Date())).rejects.toMatchObject({ code: status.UNAVAILABLE, message: expect.stringMatching(/expiring within 30 days/) });
      expect(summarise(tls.certPem()).serial).toBe(summarise(pair.certPem).serial);
      expect(() => statSync(join(tmp.dir, 'tls', 'gateway.cert.pem'))).toThrow(/ENOENT/);
    } finally {
      ca.close();
      tmp.remove();
    }
  });
});
