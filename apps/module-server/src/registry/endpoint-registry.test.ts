import { join } from 'node:path';
import Database from 'better-sqlite3';
import { makeTempDir, waitFor } from '@dc/service-kit/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MIGRATIONS, openBrokerDb } from './broker-db';
import { EndpointRegistry } from './endpoint-registry';
import { brokerFixture, type BrokerFixture, FACTS } from '../testing/broker-fixture';

describe('endpoint registry', () => {
  let f: BrokerFixture;
  beforeEach(() => {
    f = brokerFixture();
    f.registry.upsert('ep-1', { enrolment: 'ENROLLED', ...FACTS }, f.clock.now());
    f.registry.upsert('ep-2', { enrolment: 'ENROLLED', ...FACTS, hostname: 'db-01.corp.example', ips: ['10.0.0.6', 'fe80::1'] }, f.clock.now());
  });
  afterEach(() => f.close());

  it('finds an endpoint by client id, IP address or computer name', () => {
    expect(f.registry.find('ep-1')?.clientId).toBe('ep-1');
    expect(f.registry.find('fe80::1')?.clientId).toBe('ep-2');
    expect(f.registry.find('DB-01.corp.example')?.clientId).toBe('ep-2');
    expect(f.registry.find('db-01')?.clientId).toBe('ep-2');
    expect(f.registry.find('nothing')).toBeUndefined();
  });

  it('refuses an ambiguous computer name, listing the candidates', () => {
    f.registry.upsert('ep-3', { enrolment: 'ENROLLED', ...FACTS }, f.clock.now());
    expect(() => f.registry.find('ws-01')).toThrow(/matches 2 endpoints \(ep-1, ep-3\)/);
  });

  it('persists every field across a reopen', () => {
    f.registry.patch('ep-1', { actionLock: true, clockSkewMs: -5, lastTlsFailureCause: 'REVOKED' });
    const before = f.registry.require('ep-1');
    f.reopen();
    expect(f.registry.require('ep-1')).toEqual(before);
  });

  it('keeps the reported content revision and the Configure Extension deployment across a reopen', () => {
    expect(f.registry.require('ep-1')).toMatchObject({ configurationRevision: 0, configureActionId: null, configureStatus: null });
    f.registry.patch('ep-1', { configurationRevision: 7, configureActionId: 'a-1', configureRevision: 8, configureStatus: 'NOT_SUCCEEDED', configureDetail: 'recorder_files[0]: bad', configureUpdatedAt: 42 });
    const before = f.registry.require('ep-1');
    f.reopen();
    expect(f.registry.require('ep-1')).toEqual(before);
    expect(before).toMatchObject({ configurationRevision: 7, configureRevision: 8, configureStatus: 'NOT_SUCCEEDED' });
  });
});

describe('broker.db migrations', () => {
  it('brings a version 3 database forward, keeping its endpoints, with revision 0', () => {
    const tmp = makeTempDir('dc-broker-mig-');
    try {
      const path = join(tmp.dir, 'broker.db');
      const raw = new Database(path);
      for (const m of MIGRATIONS.slice(0, 3)) raw.exec(m);
      raw.pragma('user_version = 3');
      raw.prepare(`INSERT INTO endpoints (client_id, enrolment, status, status_since) VALUES ('old-1', 'ENROLLED', 'OFFLINE', 1)`).run();
      raw.close();
      const db = openBrokerDb(path);
      expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
      expect(new EndpointRegistry(db).require('old-1')).toMatchObject({ status: 'OFFLINE', configurationRevision: 0, configureStatus: null });
      db.close();
    } finally {
      tmp.remove();
    }
  });
});

describe('endpoint registry writes behind memory', () => {
  let f: BrokerFixture;
  beforeEach(() => {
    f = brokerFixture();
  });
  afterEach(() => f.close());
  const row = (id: string) => f.db.prepare('SELECT status, hostname, last_heartbeat_at FROM endpoints WHERE client_id = ?').get(id) as { status: string; hostname: string; last_heartbeat_at: number | null } | undefined;

  it('writes a new endpoint at once, and later changes within the flush delay, merged per endpoint', async () => {
    const registry = new EndpointRegistry(f.db, { flushDelayMs: 20 });
    registry.upsert('ep-9', { enrolment: 'ENROLLED', ...FACTS }, f.clock.now());
    expect(row('ep-9')).toMatchObject({ status: 'NEVER_CONNECTED', hostname: FACTS.hostname });
    registry.patch('ep-9', { status: 'ONLINE' });
    registry.patch('ep-9', { hostname: 'renamed' });
    expect(registry.require('ep-9')).toMatchObject({ status: 'ONLINE', hostname: 'renamed' }); // readers see memory at once
    expect(row('ep-9')).toMatchObject({ status: 'NEVER_CONNECTED', hostname: FACTS.hostname });
    await waitFor(() => row('ep-9')!.status === 'ONLINE', { what: 'the write behind' });
    expect(row('ep-9')).toMatchObject({ status: 'ONLINE', hostname: 'renamed' });
  });

  it('flush writes every pending change and heartbeat in one go, and a reopen sees them', () => {
    const registry = new EndpointRegistry(f.db, { flushDelayMs: 3_600_000 });
    for (let i = 0; i < 50; i++) registry.upsert(`ep-${i}`, { enrolment: 'ENROLLED', ...FACTS }, f.clock.now());
    for (let i = 0; i < 50; i++) registry.patch(`ep-${i}`, { status: 'ONLINE' });
    registry.recordHeartbeat('ep-7', 1234);
    expect(row('ep-7')).toMatchObject({ status: 'NEVER_CONNECTED', last_heartbeat_at: null });
    expect(registry.flush()).toBe(50);
    expect(registry.flush()).toBe(0);
    expect(new EndpointRegistry(f.db).list().filter((e) => e.status === 'ONLINE')).toHaveLength(50);
    expect(row('ep-7')).toMatchObject({ status: 'ONLINE', last_heartbeat_at: 1234 });
  });
});
