// Test fixture: a real broker.db in a temp dir with the registry, event log and a manual clock.
import { join } from 'node:path';
import { makeTempDir } from '@dc/service-kit/testing';
import pino from 'pino';
import { ManualClock } from '../clock';
import { EventLog } from '../events/event-log';
import { type BrokerDb, openBrokerDb } from '../registry/broker-db';
import { EndpointRegistry } from '../registry/endpoint-registry';

export interface BrokerFixture {
  readonly dir: string;
  readonly dbPath: string;
  readonly clock: ManualClock;
  db: BrokerDb;
  registry: EndpointRegistry;
  events: EventLog;
  readonly log: pino.Logger;
  /** Closes and reopens broker.db, as a restart would. */
  reopen(): void;
  close(): void;
}

export function brokerFixture(): BrokerFixture {
  const tmp = makeTempDir('dc-broker-');
  const dbPath = join(tmp.dir, 'broker.db');
  const clock = new ManualClock();
  const log = pino({ level: 'silent' });
  const db = openBrokerDb(dbPath);
  const f: BrokerFixture = {
    dir: tmp.dir,
    dbPath,
    clock,
    log,
    db,
    registry: new EndpointRegistry(db),
    events: new EventLog({ db, clock, log }),
    reopen() {
      f.registry.flush();
      f.db.close();
      f.db = openBrokerDb(dbPath);
      f.registry = new EndpointRegistry(f.db);
      f.events = new EventLog({ db: f.db, clock, log });
    },
    close() {
      f.registry.flush();
      f.db.close();
      tmp.remove();
    },
  };
  return f;
}

export const FACTS = { hostname: 'ws-01.corp.example', ips: ['10.0.0.5'], os: 'linux', agentVersion: '0.1.0', toolsVersion: '0.1.0', actionLock: false, recorderStatus: 'RUNNING', route: 'direct' };
