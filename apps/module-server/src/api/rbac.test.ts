import { type Client, Metadata, type ServiceDefinition, status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { moduleserver as ms } from '../contracts';
import { type Harness, startHarness, TOKENS } from '../testing/broker-harness';
import type { Permission } from './permission-checker';

/** Every module API rpc and the one SPEC 1.3 permission it needs. */
const RPCS: Array<[keyof typeof SERVICES, string, Permission]> = [
  ['endpoints', 'listEndpoints', 'SESSION_READ'],
  ['endpoints', 'getEndpoint', 'SESSION_READ'],
  ['endpoints', 'testConnection', 'SESSION_WRITE'],
  ['endpoints', 'renewEndpointCertificates', 'SETTINGS_WRITE'],
  ['sessions', 'openSession', 'SESSION_WRITE'],
  ['sessions', 'closeSession', 'SESSION_WRITE'],
  ['sessions', 'getSession', 'SESSION_READ'],
  ['sessions', 'listSessions', 'SESSION_READ'],
  ['sessions', 'sendSessionRequest', 'SESSION_WRITE'],
  ['sessions', 'queryEvents', 'SESSION_WRITE'],
  ['sessions', 'getProcessHistory', 'SESSION_WRITE'],
  ['sessions', 'findFiles', 'SESSION_WRITE'],
  ['sessions', 'validatePatterns', 'SESSION_WRITE'],
  ['sessions', 'retrieveKey', 'SESSION_WRITE'],
  ['sessions', 'getRecorderStatus', 'SESSION_WRITE'],
  ['sessions', 'startRecorder', 'SESSION_WRITE'],
  ['sessions', 'stopRecorder', 'SESSION_WRITE'],
  ['sessions', 'recreateDatabase', 'SESSION_WRITE'],
  ['sessions', 'pingSession', 'SESSION_WRITE'],
  ['events', 'listEvents', 'SESSION_READ'],
  ['events', 'watchEvents', 'SESSION_READ'],
  ['events', 'listAlerts', 'SESSION_READ'],
  ['events', 'watchAlerts', 'SESSION_READ'],
  ['events', 'acknowledgeAlert', 'SESSION_WRITE'],
  ['events', 'clearAlert', 'SESSION_WRITE'],
  ['admin', 'getInfo', 'SHOW_DIRECT_CONNECT'],
  ['admin', 'downloadSupportPackage', 'LOGS_READ'],
  ['admin', 'getLogLevel', 'SETTINGS_READ'],
  ['admin', 'setLogLevel', 'SETTINGS_WRITE'],
  ['admin', 'getCertificates', 'SETTINGS_READ'],
  ['admin', 'renewServerCertificate', 'SETTINGS_WRITE'],
  ['admin', 'uninstall', 'SETTINGS_WRITE'],
  ['admin', 'getUninstallStatus', 'SETTINGS_READ'],
];

const SERVICES = {
  endpoints: ms.EndpointServiceService,
  sessions: ms.SessionServiceService,
  events: ms.EventServiceService,
  admin: ms.AdminServiceService,
} satisfies Record<string, ServiceDefinition>;

/** A role lacking the permission (SPEC 1.3 table). */
const DENIED_TO: Record<Permission, keyof typeof TOKENS> = {
  SHOW_DIRECT_CONNECT: 'service',
  SESSION_READ: 'service',
  SESSION_WRITE: 'readonly',
  SETTINGS_READ: 'service',
  SETTINGS_WRITE: 'user',
  LOGS_READ: 'readonly',
  CRON_EXEC: 'admin',
};

function call(client: Client, def: ServiceDefinition, method: string, token: string | undefined): Promise<{ code: number; details: string }> {
  const m = def[method]!;
  const md = new Metadata();
  if (token) md.set('authorization', `Bearer ${token}`);
  const req = (m.requestDeserialize as (b: Buffer) => unknown)(Buffer.alloc(0));
  return new Promise((resolve) => {
    if (m.responseStream) {
      const s = client.makeServerStreamRequest(m.path, m.requestSerialize, m.responseDeserialize, req, md, {});
      s.on('data', () => {});
      s.on('error', (e: { code: number; details: string }) => resolve(e));
      s.on('end', () => resolve({ code: status.OK, details: '' }));
    } else {
      client.makeUnaryRequest(m.path, m.requestSerialize, m.responseDeserialize, req, md, {}, (e) => resolve(e ? (e as { code: number; details: string }) : { code: status.OK, details: '' }));
    }
  });
}

describe('RBAC on every module API call (SPEC 1.3)', () => {
  let h: Harness;
  let clients: Record<keyof typeof SERVICES, Client>;
  beforeAll(async () => {
    h = await startHarness();
    const api = h.api(TOKENS.admin);
    clients = { endpoints: api.endpoints, sessions: api.sessions, events: api.events, admin: api.admin };
  });
  afterAll(async () => {
    await h.close();
  });

  it.each(RPCS)('%s.%s refuses a caller without %s, and one without a token', async (svc, method, permission) => {
    const eventsBefore = h.broker.events.list().length;
    const denied = await call(clients[svc], SERVICES[svc], method, TOKENS[DENIED_TO[permission]]);
    expect(denied.code).toBe(status.PERMISSION_DENIED);
    expect(denied.details).toContain(permission);
    const anonymous = await call(clients[svc], SERVICES[svc], method, undefined);
    expect(anonymous.code).toBe(status.UNAUTHENTICATED);
    const unknown = await call(clients[svc], SERVICES[svc], method, 'no-such-token');
    expect(unknown.code).toBe(status.UNAUTHENTICATED);
    expect(h.broker.events.list().length).toBe(eventsBefore); // nothing changed
  });

  it('lets a permitted caller through', async () => {
    const r = await call(clients.admin, SERVICES.admin, 'getInfo', TOKENS.readonly);
    expect(r.code).toBe(status.OK);
  });
});
