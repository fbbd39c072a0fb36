// Caller authentication with bearer tokens, against a real gRPC RbacService standing in for settings.
import { credentials, Metadata, Server, ServerCredentials, type ServerUnaryCall, type sendUnaryData, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { commonV1, settingsV1 } from '@dc/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CallerAuth, Permission } from './caller-auth';
import { settingsPermissionChecker } from './settings-permission-checker';

let server: Server;
let port: number;
const seen: settingsV1.CheckPermissionRequest[] = [];
let now = new Date('2026-01-01T00:00:00Z');

beforeAll(async () => {
  server = new Server();
  const impl = {
    checkPermission(call: ServerUnaryCall<settingsV1.CheckPermissionRequest, settingsV1.CheckPermissionResponse>, cb: sendUnaryData<settingsV1.CheckPermissionResponse>) {
      const req = call.request;
      seen.push(req);
      const principal = (name: string) => ({ principalId: name, name, roles: [], tokenId: 't' });
      const ttl = { seconds: 5, nanos: 0 };
      if (req.token === 'service-account') {
        const allowed = req.permission === Permission.PERMISSION_CRON_EXEC || req.alternatives.includes(Permission.PERMISSION_CRON_EXEC);
        cb(null, { allowed, principal: principal('svc'), denialReason: allowed ? '' : 'no CRON_EXEC', cacheTtl: ttl });
      } else if (req.token === 'reader') {
        const allowed = req.permission === Permission.PERMISSION_SETTINGS_READ;
        cb(null, { allowed, principal: principal('reader'), denialReason: allowed ? '' : 'role READ_ONLY_USER lacks it', cacheTtl: ttl });
      } else {
        cb(null, { allowed: false, principal: undefined, denialReason: 'unknown token', cacheTtl: undefined });
      }
    },
  };
  server.addService(settingsV1.RbacServiceService, impl as unknown as UntypedServiceImplementation);
  port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
});
afterAll(() => server.forceShutdown());

function callWith(token?: string) {
  const metadata = new Metadata();
  if (token) metadata.set('authorization', `Bearer ${token}`);
  return { metadata, getAuthContext: () => ({}) };
}

function auth(address = `127.0.0.1:${port}`) {
  const checker = settingsPermissionChecker({ address, credentials: credentials.createInsecure(), timeoutMs: 3000 });
  return { checker, auth: new CallerAuth({ callers: ['module-server'], findCertificate: () => undefined, bearer: checker, clock: () => now }) };
}

describe('bearer tokens checked by settings', () => {
  it('lets the service account token call CRON_EXEC and SETTINGS_WRITE rpcs (CRON_EXEC is the alternative)', async () => {
    const { auth: a, checker } = auth();
    await expect(a.authorise(callWith('service-account'), Permission.PERMISSION_CRON_EXEC, '/dc.ca.v1.CertificateAuthorityService/SignCsr')).resolves.toEqual({
      kind: 'token',
      name: 'svc',
    });
    await a.authorise(callWith('service-account'), Permission.PERMISSION_SETTINGS_WRITE, '/dc.ca.v1.CertificateAuthorityService/RevokeCertificate');
    const last = seen[seen.length - 1]!;
    expect(last.alternatives).toEqual([commonV1.Permission.PERMISSION_CRON_EXEC]);
    expect(last.method).toBe('/dc.ca.v1.CertificateAuthorityService/RevokeCertificate');
    checker.close();
  });

  it('refuses a known token without the permission with PERMISSION_DENIED, an unknown one with UNAUTHENTICATED', async () => {
    const { auth: a, checker } = auth();
    await expect(a.authorise(callWith('reader'), Permission.PERMISSION_SETTINGS_WRITE, 'M')).rejects.toMatchObject({
      name: 'PermissionDenied',
      message: 'M needs PERMISSION_SETTINGS_WRITE: role READ_ONLY_USER lacks it',
    });
    await expect(a.authorise(callWith('nobody'), Permission.PERMISSION_SETTINGS_READ, 'M')).rejects.toMatchObject({ name: 'Unauthenticated' });
    await expect(a.authorise(callWith(), Permission.PERMISSION_SETTINGS_READ, 'M')).rejects.toMatchObject({ name: 'Unauthenticated' });
    checker.close();
  });

  it('caches an answer for its cache_ttl, then asks again', async () => {
    const { auth: a, checker } = auth();
    const before = seen.length;
    await a.authorise(callWith('reader'), Permission.PERMISSION_SETTINGS_READ, 'M');
    await a.authorise(callWith('reader'), Permission.PERMISSION_SETTINGS_READ, 'M');
    expect(seen.length - before).toBe(1);
    now = new Date(now.getTime() + 5001);
    await a.authorise(callWith('reader'), Permission.PERMISSION_SETTINGS_READ, 'M');
    expect(seen.length - before).toBe(2);
    checker.close();
  });

  it('answers UNAVAILABLE when settings cannot be reached', async () => {
    const { auth: a, checker } = auth('127.0.0.1:1');
    await expect(a.authorise(callWith('reader'), Permission.PERMISSION_SETTINGS_READ, 'M')).rejects.toMatchObject({ name: 'Unavailable' });
    checker.close();
  });
});
