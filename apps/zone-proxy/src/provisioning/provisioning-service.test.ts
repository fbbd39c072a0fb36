import { existsSync } from 'node:fs';
import { makeTempDir } from '@dc/service-kit/testing';
import { pino } from 'pino';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { installProvisionPayload, type InstalledPayload, readInstalledPayload } from '../provision-payload/provision-payload';
import { TestCa } from '../testing/test-ca';
import { type ProvisionedState, statePath, writeProvisionedState } from './provisioned-state';
import { provisionProof } from '@dc/zone-link';
import { ATTEMPT_TTL_MS, Provisioning } from './provisioning-service';

const log = pino({ level: 'silent' });
let ca: TestCa;
const temps: Array<{ remove(): void }> = [];
beforeAll(() => {
  ca = new TestCa();
});
afterEach(() => temps.splice(0).forEach((t) => t.remove()));

function setup() {
  const tmp = makeTempDir('dc-zp-prov-');
  temps.push(tmp);
  const payload = installProvisionPayload(tmp.dir, 'zone-a');
  const clock = { ms: Date.UTC(2026, 0, 1), now() { return this.ms; } };
  let state: ProvisionedState | undefined;
  const p = new Provisioning({
    payload: () => readInstalledPayload(tmp.dir),
    servedFingerprintSha256: payload.fingerprintSha256,
    isProvisioned: () => state !== undefined,
    install: async (s) => {
      writeProvisionedState(tmp.dir, s);
      state = s;
    },
    clock,
    log,
    version: 'test',
  });
  return { dir: tmp.dir, payload, p, clock, state: () => state };
}

function begin(p: Provisioning, nonce = Buffer.alloc(32, 9)) {
  return { nonce, res: p.begin({ clientNonce: nonce, zoneProxyName: 'zone-a' }) };
}

function completion(payload: InstalledPayload, nonce: Buffer, res: ReturnType<Provisioning['begin']>, secret: Buffer = payload.secret) {
  const input = { provisioningId: res.provisioningId, clientNonce: nonce, serverNonce: res.serverNonce, endpointFacingCsrPem: res.endpointFacingCsrPem, linkFacingCsrPem: res.linkFacingCsrPem };
  return {
    provisioningId: res.provisioningId,
    clientProof: provisionProof(secret, 'client', input),
    endpointFacingCertificateChainPem: ca.issueForCsr(res.endpointFacingCsrPem, { dns: ['zone.example'], uris: ['urn:dc:zone-proxy:zone-a'] }),
    linkFacingCertificateChainPem: ca.issueForCsr(res.linkFacingCsrPem, { ips: ['127.0.0.1'], uris: ['urn:dc:zone-proxy:zone-a'] }),
    trustBundlePem: ca.rootPem,
    endpointInboundIpAddress: '127.0.0.1',
    endpointInboundPort: 0,
    moduleServerInboundIpAddress: '127.0.0.1',
    moduleServerInboundPort: 27487,
    revocationList: { version: 3, serials: ['0A1B'] },
  };
}

describe('provisioning service', () => {
  it('proves the secret, checks the module server proof and installs the issued certificates', async () => {
    const s = setup();
    const { nonce, res } = begin(s.p);
    const input = { provisioningId: res.provisioningId, clientNonce: nonce, serverNonce: res.serverNonce, endpointFacingCsrPem: res.endpointFacingCsrPem, linkFacingCsrPem: res.linkFacingCsrPem };
    expect(Buffer.from(res.serverProof).equals(provisionProof(s.payload.secret, 'server', input))).toBe(true);
    expect(await s.p.complete(completion(s.payload, nonce, res))).toEqual({ listening: true });
    expect(s.state()).toMatchObject({ zoneProxyName: 'zone-a', endpointInbound: { host: '127.0.0.1', port: 17486 }, moduleServerInbound: { port: 27487 }, revocation: { version: 3 } });
    expect(existsSync(statePath(s.dir))).toBe(true);
    expect(() => begin(s.p, Buffer.alloc(32, 10))).toThrow(/already provisioned; re-run "zone-proxy install"/);
  }, 30_000);

  it('refuses a wrong client proof and stores nothing; the attempt is spent', async () => {
    const s = setup();
    const { nonce, res } = begin(s.p);
    const req = completion(s.payload, nonce, res, Buffer.alloc(32, 1));
    await expect(s.p.complete(req)).rejects.toThrow(/client_proof does not prove the provision secret/);
    expect(s.state()).toBeUndefined();
    expect(existsSync(statePath(s.dir))).toBe(false);
    await expect(s.p.complete(completion(s.payload, nonce, res))).rejects.toThrow(/unknown, used or older than 5 minutes/);
  }, 30_000);

  it('refuses a replayed completion and a reused client nonce', async () => {
    const s = setup();
    const { nonce, res } = begin(s.p);
    const req = completion(s.payload, nonce, res);
    await s.p.complete(req);
    await expect(s.p.complete(req)).rejects.toThrow(/unknown, used or older than 5 minutes/);
    const fresh = setup();
    begin(fresh.p, Buffer.alloc(32, 4));
    expect(() => begin(fresh.p, Buffer.alloc(32, 4))).toThrow(/client_nonce .*was already used/);
  }, 30_000);

  it('refuses a completion after 5 minutes', async () => {
    const s = setup();
    const { nonce, res } = begin(s.p);
    s.clock.ms += ATTEMPT_TTL_MS + 1;
    await expect(s.p.complete(completion(s.payload, nonce, res))).rejects.toThrow(/older than 5 minutes/);
  }, 30_000);

  it('refuses certificates that were not issued for its own CSRs', async () => {
    const s = setup();
    const { nonce, res } = begin(s.p);
    const other = begin(setup().p, Buffer.alloc(32, 5)).res;
    const req = { ...completion(s.payload, nonce, res), endpointFacingCertificateChainPem: ca.issueForCsr(other.endpointFacingCsrPem, { dns: ['x'] }) };
    await expect(s.p.complete(req)).rejects.toThrow(/endpoint_facing_certificate_chain_pem: was not issued for the CSR this zone proxy made/);
    expect(s.state()).toBeUndefined();
  }, 30_000);

  it('refuses to provision with a payload regenerated since the service started', async () => {
    const s = setup();
    installProvisionPayload(s.dir, 'zone-a');
    expect(() => begin(s.p)).toThrow(/regenerated since the zone proxy started; restart/);
  }, 30_000);
});
