// RBAC in the domain: the SPEC 1.3 table, tokens (hash, expiry, revocation), the bootstrap administrator.
import { statSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openTestSettings, type TestSettings } from '../testing/test-settings';
import { PERMISSIONS, ROLE_PERMISSIONS, ROLES } from './permissions';

let t: TestSettings;
afterEach(async () => t?.cleanup());

/** SPEC 1.3, transcribed independently of permissions.ts: ✓ per role in the order Admin, Read Only, Service Account, User. */
const SPEC_TABLE: Record<string, [boolean, boolean, boolean, boolean]> = {
  SHOW_DIRECT_CONNECT: [true, true, false, true],
  SESSION_READ: [true, true, false, true],
  SESSION_WRITE: [true, false, false, true],
  SETTINGS_READ: [true, true, false, true],
  SETTINGS_WRITE: [true, false, false, false],
  LOGS_READ: [true, false, false, true],
  CRON_EXEC: [false, false, true, false],
};

describe('RBAC', () => {
  it('grants exactly the permissions of the SPEC 1.3 table', () => {
    t = openTestSettings();
    const { users, tokens, accessControl } = t.settings;
    expect([...PERMISSIONS].sort()).toEqual(Object.keys(SPEC_TABLE).sort());
    ROLES.forEach((role, i) => {
      users.create('test', `u-${role.toLowerCase()}`, [role]);
      const { token } = tokens.create('test', `u-${role.toLowerCase()}`, '', 0);
      for (const permission of PERMISSIONS) {
        const decision = accessControl.check(token, permission);
        expect([role, permission, decision.allowed]).toEqual([role, permission, SPEC_TABLE[permission][i]]);
        expect(ROLE_PERMISSIONS[role].has(permission)).toBe(SPEC_TABLE[permission][i]);
      }
    });
  });

  it('stores only the SHA-256 of a token and shows the secret once', () => {
    t = openTestSettings();
    const { users, tokens } = t.settings;
    users.create('test', 'alice', ['USER']);
    const issued = tokens.create('test', 'alice', 'laptop', 0);
    const rows = t.settings.store.db.prepare('SELECT * FROM tokens').all() as Array<Record<string, unknown>>;
    expect(JSON.stringify(rows)).not.toContain(issued.token.slice('dct_0123456789abcdef_'.length));
    expect((rows[0].token_hash as Buffer).length).toBe(32);
    expect(tokens.list('alice')[0]).not.toHaveProperty('token');
  });

  it('refuses expired, revoked, unknown and malformed tokens with the reason', () => {
    t = openTestSettings();
    const { users, tokens, accessControl } = t.settings;
    users.create('test', 'alice', ['USER']);
    const short = tokens.create('test', 'alice', '', 60);
    const revoked = tokens.create('test', 'alice', '', 0);
    expect(accessControl.check(short.token, 'SESSION_READ').allowed).toBe(true);
    tokens.revoke('test', revoked.info.id);
    expect(() => accessControl.check(revoked.token, 'SESSION_READ')).toThrow(`token ${revoked.info.id} was revoked`);
    t.clock.advance(61_000);
    expect(() => accessControl.check(short.token, 'SESSION_READ')).toThrow(`token ${short.info.id} expired`);
    const forged = short.token.slice(0, -4) + 'AAAA';
    expect(() => accessControl.check(forged, 'SESSION_READ')).toThrow('the bearer token is not known');
    expect(() => accessControl.check('hello', 'SESSION_READ')).toThrow('malformed');
    expect(() => accessControl.check(undefined, 'SESSION_READ')).toThrow('no bearer token');
  });

  it('records when a token was last used', () => {
    t = openTestSettings();
    const { users, tokens, accessControl } = t.settings;
    users.create('test', 'alice', ['USER']);
    const issued = tokens.create('test', 'alice', '', 0);
    expect(tokens.list('alice')[0].lastUsedAt).toBe('');
    accessControl.check(issued.token, 'SESSION_READ');
    expect(tokens.list('alice')[0].lastUsedAt).toBe(t.clock.now().toISOString());
  });

  it('revokes the tokens of a deleted user and never deletes the last administrator', () => {
    t = openTestSettings();
    const { users, tokens, accessControl } = t.settings;
    users.create('test', 'root', ['ADMINISTRATOR']);
    users.create('test', 'bob', ['USER']);
    const bob = tokens.create('test', 'bob', '', 0);
    users.delete('test', 'bob');
    expect(() => accessControl.check(bob.token, 'SESSION_READ')).toThrow('was revoked');
    expect(() => users.delete('test', 'root')).toThrow('is the last enabled administrator');
    expect(() => users.update('test', 'root', { roles: ['USER'] })).toThrow('is the last enabled administrator');
    expect(() => users.update('test', 'root', { disabled: true })).toThrow('is the last enabled administrator');
  });

  it('creates the bootstrap administrator at first start, its token in a file only its owner can read', () => {
    t = openTestSettings();
    const first = t.settings.setup('default', 'installer');
    expect(first.firstStart).toBe(true);
    const file = join(t.dataDir, 'admin.token');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const token = readFileSync(file, 'utf8').trim();
    expect(t.settings.accessControl.check(token, 'SETTINGS_WRITE')).toMatchObject({ allowed: true, principal: { user: 'admin' } });
    const again = t.settings.setup('custom', 'someone-else');
    expect(again).toMatchObject({ firstStart: false, record: { mode: 'default' } });
    expect(readFileSync(file, 'utf8').trim()).toBe(token);
  });
});
