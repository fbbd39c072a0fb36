// The real app, built and spawned, called over real gRPC with TLS on loopback.
import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { credentials, Metadata, type ServiceError, status } from '@grpc/grpc-js';
import { caV1 } from '@dc/proto';
import { distEntry, makeTempDir, spawnService, type SpawnedService, workspaceRoot } from '@dc/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { opensslCsr, opensslVerify, rsaKey } from '../testing/helpers';

type Client = InstanceType<typeof caV1.CertificateAuthorityServiceClient>;

let tmp: ReturnType<typeof makeTempDir>;
let dataDir: string;
let app: SpawnedService | undefined;
const clients: Client[] = [];

async function start(): Promise<SpawnedService> {
  app = await spawnService({
    entry: distEntry('apps/cert-authority'),
    args: ['--data-dir', dataDir, '--port', '0'],
    env: { DC_CA_METRICS__PORT: '0', DC_CA_LOG_LEVEL: 'debug' },
    startTimeoutMs: 60_000,
  });
  return app;
}

/** A client trusting the CA's bundle file; with a credential name, it presents that service certificate. */
function client(identity?: { certPem: string; keyPem: string } | string): Client {
  const id =
    typeof identity === 'string'
      ? {
          certPem: readFileSync(join(dataDir, 'credentials', `${identity}.cert.pem`), 'utf8'),
          keyPem: readFileSync(join(dataDir, 'credentials', `${identity}.key.pem`), 'utf8'),
        }
      : identity;
  const creds = credentials.createSsl(
    readFileSync(join(dataDir, 'trust-bundle.pem')),
    id ? Buffer.from(id.keyPem) : null,
    id ? Buffer.from(id.certPem) : null,
  );
  const c = new caV1.CertificateAuthorityServiceClient(`localhost:${app!.ports.grpc}`, creds);
  clients.push(c);
  return c;
}

/** Calls one unary rpc and resolves with its response, or rejects with the ServiceError. */
function call<Req, Res>(c: Client, method: keyof Client, req: Req, metadata = new Metadata()): Promise<Res> {
  return new Promise((resolve, reject) => {
    const fn = c[method] as unknown as (r: Req, m: Metadata, cb: (err: ServiceError | null, res: Res) => void) => void;
    fn.call(c, req, metadata, (err, res) => (err ? reject(err) : resolve(res)));
  });
}

async function refused(p: Promise<unknown>): Promise<ServiceError> {
  try {
    await p;
  } catch (err) {
    return err as ServiceError;
  }
  throw new Error('expected the call to be refused');
}

function closeClients(): void {
  for (const c of clients.splice(0)) c.close();
}

beforeAll(async () => {
  const built = spawnSync(process.execPath, ['tools/build/build.mjs', 'apps/cert-authority'], { cwd: workspaceRoot, encoding: 'utf8' });
  if (built.status !== 0) throw new Error(`build failed: ${built.stderr}`);
  tmp = makeTempDir('dc-ca-grpc-');
  dataDir = join(tmp.dir, 'data');
  await start();
}, 90_000);

afterAll(async () => {
  closeClients();
  await app?.stop();
  tmp?.remove();
});

const P = caV1.CertificatePurpose;

describe('the cert-authority process', () => {
  it('exits with code 2 and names the key, the source and the rule on bad configuration', () => {
    const r = spawnSync(process.execPath, [distEntry('apps/cert-authority'), '--data-dir', join(tmp.dir, 'unused')], {
      env: { ...process.env, DC_CA_GRPC__PORT: '70000' },
      encoding: 'utf8',
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('config key "grpc.port" (env DC_CA_GRPC__PORT): must be from 0 to 65535 (got 70000)');
  });
});

describe('the cert-authority gRPC service', () => {
  it('serves the trust bundle and the revocation list to anyone, and writes bootstrap credentials 0600', async () => {
    const anonymous = client();
    const bundle = await call<caV1.GetTrustBundleRequest, caV1.GetTrustBundleResponse>(anonymous, 'getTrustBundle', {});
    expect(bundle.trustBundlePem).toBe(readFileSync(join(dataDir, 'trust-bundle.pem'), 'utf8'));
    expect(bundle.roots).toHaveLength(1);
    expect(bundle.roots[0]!.state).toBe(caV1.RootState.ROOT_STATE_ACTIVE);
    const crl = await call<caV1.GetRevocationListRequest, caV1.GetRevocationListResponse>(anonymous, 'getRevocationList', { knownVersion: 0 });
    expect(crl).toMatchObject({ version: 0, unchanged: false, entries: [] });
    expect(crl.crlPems).toHaveLength(1);
    for (const name of ['settings', 'module-server']) {
      expect(statSync(join(dataDir, 'credentials', `${name}.key.pem`)).mode & 0o777).toBe(0o600);
    }
  });

  it('refuses every other call without a credential, or with a bearer token when no settings is configured', async () => {
    const err = await refused(call(client(), 'listCertificates', caV1.ListCertificatesRequest.fromPartial({ pageSize: 10 })));
    expect(err.code).toBe(status.UNAUTHENTICATED);
    expect(err.details).toContain('needs a caller identity');
    const md = new Metadata();
    md.set('authorization', 'Bearer abc');
    const err2 = await refused(call(client(), 'listCertificates', caV1.ListCertificatesRequest.fromPartial({ pageSize: 10 }), md));
    expect(err2.code).toBe(status.UNAUTHENTICATED);
    expect(err2.details).toContain('bearer tokens are not accepted here');
  });

  it('enrols an endpoint from its CSR with a one-time token, and refuses the token a second time', async () => {
    const ms = client('module-server');
    const created = await call<caV1.CreateEnrolmentTokenRequest, caV1.CreateEnrolmentTokenResponse>(ms, 'createEnrolmentToken', {
      kind: caV1.EnrolmentTokenKind.ENROLMENT_TOKEN_KIND_ONE_TIME,
      label: 'test',
      maxUses: 0,
      clientId: '',
    });
    expect(created.secret).toMatch(/^dcet_[0-9a-f]{16}_/);
    const key = rsaKey();
    const csrPem = opensslCsr(tmp.dir, key.privateKeyPem);
    const signed = await call<caV1.SignCsrRequest, caV1.SignCsrResponse>(ms, 'signCsr', { csrPem, enrolmentToken: created.secret, hostName: 'web-01' });
    expect(signed.certificate!.clientId).toBe(signed.clientId);
    expect(signed.certificate!.purpose).toBe(P.CERTIFICATE_PURPOSE_ENDPOINT);
    expect(signed.certificate!.label).toBe('web-01');
    expect(new X509Certificate(signed.certificateChainPem).checkPrivateKey(key.privateKey)).toBe(true);
    expect(opensslVerify(tmp.dir, signed.certificateChainPem, signed.trustBundlePem, { purpose: 'sslclient' }).ok).toBe(true);

    const again = await refused(call(ms, 'signCsr', { csrPem, enrolmentToken: created.secret, hostName: 'web-01' }));
    expect(again.code).toBe(status.UNAUTHENTICATED);
    expect(again.details).toContain('is used up (1 of 1 uses)');
    // The token's secret never reaches the log, not even at debug level.
    const secretPart = created.secret.split('_').slice(2).join('_');
    expect(JSON.stringify(app!.logs)).not.toContain(secretPart);
  });

  it('answers bad input with INVALID_ARGUMENT naming the field, and an unknown serial with NOT_FOUND', async () => {
    const ms = client('module-server');
    const badCsr = await refused(call(ms, 'signCsr', { csrPem: 'not a csr', enrolmentToken: 'x', hostName: '' }));
    expect(badCsr.code).toBe(status.INVALID_ARGUMENT);
    expect(badCsr.details).toContain('csr_pem "not a csr": must be a PEM "CERTIFICATE REQUEST" block');
    const badName = await refused(call(ms, 'issueCertificate', { purpose: P.CERTIFICATE_PURPOSE_SERVER, commonName: 'exa mple.com', dnsNames: [], ipAddresses: [], csrPem: '', label: '' }));
    expect(badName.code).toBe(status.INVALID_ARGUMENT);
    expect(badName.details).toContain('label "exa mple" is not a valid DNS label');
    const unknown = await refused(call(ms, 'revokeCertificate', { serial: '0abc', reason: 0, detail: '' }));
    expect(unknown.code).toBe(status.NOT_FOUND);
    const noConfirm = await refused(call(ms, 'rotateRoot', { confirm: false }));
    expect(noConfirm.code).toBe(status.FAILED_PRECONDITION);
  });

  it('refuses a service identity that is not a configured caller, and an endpoint certificate, with PERMISSION_DENIED', async () => {
    const ms = client('module-server');
    const other = await call<caV1.IssueCertificateRequest, caV1.IssueCertificateResponse>(ms, 'issueCertificate', {
      purpose: P.CERTIFICATE_PURPOSE_SERVICE,
      commonName: 'zone-tool',
      dnsNames: [],
      ipAddresses: [],
      csrPem: '',
      label: '',
    });
    const err = await refused(call(client({ certPem: other.certificateChainPem, keyPem: other.privateKeyPem }), 'listCertificates', caV1.ListCertificatesRequest.fromPartial({ pageSize: 1 })));
    expect(err.code).toBe(status.PERMISSION_DENIED);
    expect(err.details).toContain('service "zone-tool" is not among the CA\'s callers');

    const { secret } = await call<caV1.CreateEnrolmentTokenRequest, caV1.CreateEnrolmentTokenResponse>(
      ms,
      'createEnrolmentToken',
      caV1.CreateEnrolmentTokenRequest.fromPartial({ kind: caV1.EnrolmentTokenKind.ENROLMENT_TOKEN_KIND_ONE_TIME }),
    );
    const key = rsaKey();
    const endpoint = await call<caV1.SignCsrRequest, caV1.SignCsrResponse>(ms, 'signCsr', { csrPem: opensslCsr(tmp.dir, key.privateKeyPem), enrolmentToken: secret, hostName: '' });
    const asEndpoint = client({ certPem: endpoint.certificateChainPem, keyPem: key.privateKeyPem });
    const err2 = await refused(call(asEndpoint, 'listCertificates', caV1.ListCertificatesRequest.fromPartial({ pageSize: 1 })));
    expect(err2.code).toBe(status.PERMISSION_DENIED);
    expect(err2.details).toContain('is not a service identity');
  });

  it('issues the module server certificate, lists it with its expiry, revokes it and publishes the revocation', async () => {
    const settings = client('settings');
    const issued = await call<caV1.IssueCertificateRequest, caV1.IssueCertificateResponse>(settings, 'issueCertificate', {
      purpose: P.CERTIFICATE_PURPOSE_SERVER,
      commonName: 'broker.example.com',
      dnsNames: ['broker.example.com'],
      ipAddresses: ['10.0.0.1'],
      validity: { seconds: 30 * 86_400, nanos: 0 },
      csrPem: '',
      label: 'module server',
    });
    const serial = issued.certificate!.serial;
    expect(issued.privateKeyPem).toContain('PRIVATE KEY');
    expect(JSON.stringify(app!.logs)).not.toContain('PRIVATE KEY');
    const listed = await call<caV1.ListCertificatesRequest, caV1.ListCertificatesResponse>(settings, 'listCertificates', {
      pageSize: 100,
      pageToken: '',
      purpose: P.CERTIFICATE_PURPOSE_SERVER,
      clientId: '',
      includeExpired: false,
      includeRevoked: false,
    });
    const row = listed.certificates.find((c) => c.serial === serial)!;
    expect(row.notAfter!.getTime()).toBe(issued.certificate!.notAfter!.getTime());
    expect(row.issuerSerial).toBe((await call<object, caV1.GetTrustBundleResponse>(settings, 'getTrustBundle', {})).roots[0]!.serial);

    const revoked = await call<caV1.RevokeCertificateRequest, caV1.RevokeCertificateResponse>(settings, 'revokeCertificate', {
      serial,
      reason: caV1.RevocationReason.REVOCATION_REASON_KEY_COMPROMISE,
      detail: 'test',
    });
    expect(revoked.certificate!.revoked).toBe(true);
    const list = await call<caV1.GetRevocationListRequest, caV1.GetRevocationListResponse>(client(), 'getRevocationList', { knownVersion: 0 });
    expect(list.version).toBe(revoked.revocationListVersion);
    expect(list.entries.map((e) => e.serial)).toContain(serial);
    const verdict = opensslVerify(tmp.dir, issued.certificateChainPem, issued.trustBundlePem, { crlPem: list.crlPems[0] });
    expect(verdict.ok).toBe(false);
    const unchanged = await call<caV1.GetRevocationListRequest, caV1.GetRevocationListResponse>(client(), 'getRevocationList', { knownVersion: list.version });
    expect(unchanged).toMatchObject({ unchanged: true, entries: [] });
  });

  it('keeps roots, certificates, tokens, revocations and credentials across a restart', async () => {
    const before = client('settings');
    const bundle = await call<object, caV1.GetTrustBundleResponse>(before, 'getTrustBundle', {});
    const all = { pageSize: 1000, pageToken: '', purpose: 0, clientId: '', includeExpired: true, includeRevoked: true };
    const certs = await call<caV1.ListCertificatesRequest, caV1.ListCertificatesResponse>(before, 'listCertificates', all);
    const tokens = await call<caV1.ListEnrolmentTokensRequest, caV1.ListEnrolmentTokensResponse>(before, 'listEnrolmentTokens', { pageSize: 0, pageToken: '', includeInactive: true });
    const credential = readFileSync(join(dataDir, 'credentials', 'settings.cert.pem'), 'utf8');
    closeClients();
    expect(await app!.stop()).toBe(0);

    await start();
    const after = client('settings');
    expect(await call<object, caV1.GetTrustBundleResponse>(after, 'getTrustBundle', {})).toEqual(bundle);
    expect(await call(after, 'listCertificates', all)).toEqual(certs);
    expect(await call(after, 'listEnrolmentTokens', { pageSize: 0, pageToken: '', includeInactive: true })).toEqual(tokens);
    expect(readFileSync(join(dataDir, 'credentials', 'settings.cert.pem'), 'utf8')).toBe(credential);
    expect(certs.certificates.filter((c) => c.revoked)).toHaveLength(1);
  });

  it('rotates the root live: both roots are trusted, new certificates come from the new one, old credentials keep working', async () => {
    const settings = client('settings');
    const rotated = await call<caV1.RotateRootRequest, caV1.RotateRootResponse>(settings, 'rotateRoot', { overlap: { seconds: 2 * 86_400, nanos: 0 }, confirm: true });
    expect(rotated.version).toBe(2);
    const bundle = await call<object, caV1.GetTrustBundleResponse>(client(), 'getTrustBundle', {});
    expect(bundle.roots.map((r) => r.state)).toEqual([caV1.RootState.ROOT_STATE_ACTIVE, caV1.RootState.ROOT_STATE_RETIRING]);
    expect(bundle.roots[1]!.retireTime).toBeDefined();
    expect(readFileSync(join(dataDir, 'trust-bundle.pem'), 'utf8')).toBe(bundle.trustBundlePem);
    const fresh = await call<caV1.IssueCertificateRequest, caV1.IssueCertificateResponse>(client('module-server'), 'issueCertificate', {
      purpose: P.CERTIFICATE_PURPOSE_CLIENT,
      commonName: 'zone-link-client',
      dnsNames: [],
      ipAddresses: [],
      csrPem: '',
      label: '',
    });
    expect(fresh.certificate!.issuerSerial).toBe(rotated.root!.serial);
    expect(opensslVerify(tmp.dir, fresh.certificateChainPem, bundle.trustBundlePem).ok).toBe(true);
  });

  it('counts requests and issued certificates on /metrics', async () => {
    const res = await fetch(`http://127.0.0.1:${app!.ports.metrics}/metrics`);
    const text = await res.text();
    expect(text).toMatch(/dc_ca_certificates_issued_total\{kind="client",service="cert-authority"\} 1/);
    expect(text).toMatch(/dc_ca_requests_total\{method="RotateRoot",code="OK",service="cert-authority"\} 1/);
  });

  it('refuses a caller whose service certificate was revoked', async () => {
    const ms = client('module-server');
    const settingsCert = new X509Certificate(readFileSync(join(dataDir, 'credentials', 'settings.cert.pem')));
    await call(ms, 'revokeCertificate', { serial: settingsCert.serialNumber.toLowerCase(), reason: 1, detail: 'test' });
    const err = await refused(call(client('settings'), 'listCertificates', caV1.ListCertificatesRequest.fromPartial({ pageSize: 1 })));
    expect(err.code).toBe(status.UNAUTHENTICATED);
    expect(err.details).toContain('was revoked at');
  });
});
