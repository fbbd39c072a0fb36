// settings.db: audit log in the same transaction, redaction, rollback, reopen, schema version.
import Database from 'better-sqlite3';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir } from '@dc/service-kit/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../testing/test-settings';
import { MIGRATIONS } from './migrations';
import { SettingsStore } from './settings-store';

const dirs: Array<{ remove(): void }> = [];
afterEach(() => dirs.splice(0).forEach((d) => d.remove()));

function open() {
  const tmp = makeTempDir('dc-store-');
  dirs.push(tmp);
  return { store: SettingsStore.open(tmp.dir, new ManualClock()), dir: tmp.dir };
}

describe('SettingsStore', () => {
  it('creates settings.db readable by its owner only, at the latest schema version', () => {
    const { store, dir } = open();
    expect(statSync(join(dir, 'settings.db')).mode & 0o777).toBe(0o600);
    expect(store.db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    store.close();
  });

  it('writes an audit-log entry with before and after in the same transaction as each change', () => {
    const { store } = open();
    const r1 = store.put('alice', 'heartbeat_policy', 'default', { intervalSeconds: 60 });
    const r2 = store.put('bob', 'heartbeat_policy', 'default', { intervalSeconds: 30 });
    const r3 = store.remove('carol', 'heartbeat_policy', 'default');
    expect([r1, r2, r3]).toEqual([1, 2, 3]);
    expect(store.changesSince(0).map((c) => [c.revision, c.actor, c.action, c.before, c.after])).toEqual([
      [1, 'alice', 'create', undefined, { intervalSeconds: 60 }],
      [2, 'bob', 'update', { intervalSeconds: 60 }, { intervalSeconds: 30 }],
      [3, 'carol', 'delete', { intervalSeconds: 30 }, undefined],
    ]);
    store.close();
  });

  it('redacts secrets in the audit log but keeps them in the document', () => {
    const { store } = open();
    store.put('alice', 'zone_proxy', 'dmz', { name: 'dmz', provisionSecret: 'sealed-value', nested: [{ token: 't0ps3cret' }] });
    const [change] = store.changesSince(0);
    expect(change.after).toEqual({ name: 'dmz', provisionSecret: '[redacted]', nested: [{ token: '[redacted]' }] });
    const raw = store.db.prepare('SELECT after FROM audit_log').pluck().get() as string;
    expect(raw).not.toContain('sealed-value');
    expect(raw).not.toContain('t0ps3cret');
    expect(store.get<{ provisionSecret: string }>('zone_proxy', 'dmz')?.value.provisionSecret).toBe('sealed-value');
    store.close();
  });

  it('leaves nothing half-written when a transaction fails, and tells listeners nothing', () => {
    const { store } = open();
    const heard: number[] = [];
    store.onChange((c) => heard.push(c.revision));
    expect(() =>
      store.transaction(() => {
        store.put('alice', 'log_level', 'settings', { level: 'debug' });
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(store.get('log_level', 'settings')).toBeUndefined();
    expect(store.revision()).toBe(0);
    expect(heard).toEqual([]);
    store.put('alice', 'log_level', 'settings', { level: 'debug' });
    expect(heard).toEqual([1]);
    store.close();
  });

  it('keeps documents, audit log and revision across a reopen', () => {
    const { store, dir } = open();
    store.put('alice', 'log_level', 'settings', { level: 'warn' });
    store.close();
    const again = SettingsStore.open(dir, new ManualClock());
    expect(again.get('log_level', 'settings')?.value).toEqual({ level: 'warn' });
    expect(again.revision()).toBe(1);
    again.close();
  });

  it('refuses a database whose schema is newer than this build', () => {
    const { store, dir } = open();
    store.close();
    const db = new Database(join(dir, 'settings.db'));
    db.pragma(`user_version = ${MIGRATIONS.length + 1}`);
    db.close();
    expect(() => SettingsStore.open(dir, new ManualClock())).toThrow('is newer than this build knows');
  });
});
