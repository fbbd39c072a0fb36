// Issued certificates are real: Node tls and openssl complete mutual TLS with them, and refuse bad ones.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CertificateAuthority } from './certificate-authority';
import { DAY_MS } from './clock';
import { opensslCsr, rsaKey, tempDir } from './testing/helpers';
import { type Credentials, nodeMutualTls, opensslMutualTls } from './testing/tls-handshake';

let tmp: ReturnType<typeof tempDir>;
let now: Date;
let ca: CertificateAuthority;
let foreign: CertificateAuthority;
let server: Credentials;
let bundle: string;

function enrol(endpointId: string): Credentials & { serial: string } {
  const key = rsaKey();
  const { token } = ca.createEnrolmentToken({ kind: 'one-time', endpointId });
  const { certificate } = ca.signEndpointCsr({ csrPem: opensslCsr(tmp.dir, key.privateKeyPem), enrolmentToken: token });
  return { certPem: certificate.certificatePem, keyPem: key.privateKeyPem, serial: certificate.serial };
}

beforeAll(() => {
  tmp = tempDir();
  // The root is made "200 days ago" so certificates can be issued in the past (expired tests).
  now = new Date(Date.now() - 200 * DAY_MS);
  ca = CertificateAuthority.open({ dataDir: join(tmp.dir, 'ca'), clock: () => now });
  foreign = CertificateAuthority.open({ dataDir: join(tmp.dir, 'foreign') });
  now = new Date();
  const issued = ca.issueCertificate({ kind: 'server', commonName: 'broker.example.com', dnsNames: ['broker.example.com'], ipAddresses: ['127.0.0.1'] });
  server = { certPem: issued.certificate.certificatePem, keyPem: issued.privateKeyPem! };
  bundle = ca.trustBundle().pem;
});
afterAll(() => {
  ca.close();
  foreign.close();
  tmp.cleanup();
});

const handshake = (client: Credentials, extra: { crl?: string[]; server?: Credentials } = {}) =>
  nodeMutualTls({ server: extra.server ?? server, serverTrust: bundle, client, clientTrust: bundle, serverName: 'broker.example.com', crl: extra.crl });

describe('mutual TLS with Node tls', () => {
  it('completes with a server certificate and an endpoint client certificate the CA issued', async () => {
    const outcome = await handshake(enrol('host-ok'));
    expect(outcome).toMatchObject({ serverAccepted: 'host-ok', clientAccepted: true });
  });

  it('completes with the CRL loaded when the client certificate is not revoked', async () => {
    const outcome = await handshake(enrol('host-crl-ok'), { crl: ca.revocationList().crls.map((c) => c.pem) });
    expect(outcome.serverAccepted).toBe('host-crl-ok');
  });

  it('refuses a revoked client certificate on the next handshake', async () => {
    const client = enrol('host-revoked');
    expect((await handshake(client, { crl: ca.revocationList().crls.map((c) => c.pem) })).serverAccepted).toBe('host-revoked');
    ca.revokeCertificate({ serial: client.serial, reason: 'key-compromise' });
    const outcome = await handshake(client, { crl: ca.revocationList().crls.map((c) => c.pem) });
    expect(outcome.serverAccepted).toBeUndefined();
    expect(outcome.serverError).toBe('CERT_REVOKED');
  });

  it('refuses an expired client certificate', async () => {
    now = new Date(Date.now() - 100 * DAY_MS); // 90-day endpoint certificate: expired 10 days ago
    const client = enrol('host-expired');
    now = new Date();
    const outcome = await handshake(client);
    expect(outcome.serverAccepted).toBeUndefined();
    expect(outcome.serverError).toBe('CERT_HAS_EXPIRED');
  });

  it('refuses a client certificate that is not valid yet', async () => {
    now = new Date(Date.now() + 2 * DAY_MS);
    const client = enrol('host-future');
    now = new Date();
    const outcome = await handshake(client);
    expect(outcome.serverAccepted).toBeUndefined();
    expect(outcome.serverError).toBe('CERT_NOT_YET_VALID');
  });

  it('refuses a client certificate from a foreign CA', async () => {
    const key = rsaKey();
    const { token } = foreign.createEnrolmentToken({ kind: 'one-time', endpointId: 'host-foreign' });
    const { certificate } = foreign.signEndpointCsr({ csrPem: opensslCsr(tmp.dir, key.privateKeyPem), enrolmentToken: token });
    const outcome = await handshake({ certPem: certificate.certificatePem, keyPem: key.privateKeyPem });
    expect(outcome.serverAccepted).toBeUndefined();
    expect(outcome.serverError).toBe('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
  });

  it('lets the client refuse an expired server certificate', async () => {
    now = new Date(Date.now() - 100 * DAY_MS);
    const issued = ca.issueCertificate({ kind: 'server', commonName: 'broker.example.com', validityMs: 30 * DAY_MS });
    now = new Date();
    const outcome = await handshake(enrol('host-checks-server'), { server: { certPem: issued.certificate.certificatePem, keyPem: issued.privateKeyPem! } });
    expect(outcome.clientAccepted).toBe(false);
    expect(outcome.clientError).toMatch(/CERT_HAS_EXPIRED/);
  });

  it('lets the client refuse a server certificate for another name', async () => {
    const outcome = await nodeMutualTls({ server, serverTrust: bundle, client: enrol('host-name'), clientTrust: bundle, serverName: 'other.example.com' });
    expect(outcome.clientAccepted).toBe(false);
    expect(outcome.clientError).toMatch(/ERR_TLS_CERT_ALTNAME_INVALID/);
  });
});

describe('mutual TLS with openssl s_server and s_client', () => {
  it('completes with issued certificates', async () => {
    const r = await opensslMutualTls(tmp.dir, { server, client: enrol('host-openssl'), trust: bundle, serverName: 'broker.example.com' });
    expect(r.clientOutput).toContain('Verification: OK');
    expect(r.clientStatus).toBe(0);
    expect(r.serverOutput).toContain('CN = host-openssl');
    expect(r.serverOutput).toContain('ping');
  });

  it('refuses a revoked client certificate when the server checks the CRL', async () => {
    const client = enrol('host-openssl-revoked');
    ca.revokeCertificate({ serial: client.serial });
    const crl = ca.revocationList().crls[0]!.pem;
    const r = await opensslMutualTls(tmp.dir, { server, client, trust: bundle, serverName: 'broker.example.com', crl });
    expect(r.serverOutput).toContain('certificate revoked');
    expect(r.serverOutput).not.toContain('ping');
  });
});
