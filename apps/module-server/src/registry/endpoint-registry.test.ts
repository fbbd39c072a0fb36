import { afterEach, beforeEach, describe, expect, it } from 'vitest';
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
});
