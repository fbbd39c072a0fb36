// The config file: where it lives (DCCTL_CONFIG, XDG), atomic 0600 writes, and refusing a corrupt file by name.
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir } from '@dc/service-kit/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { configPath, ConfigFileError, readConfig, writeConfig } from './config-file';

describe('config file', () => {
  const tmp = makeTempDir('dcctl-config-');
  afterAll(() => tmp.remove());

  it.each([
    [{ DCCTL_CONFIG: '/x/c.json', XDG_CONFIG_HOME: '/xdg', HOME: '/h' }, '/x/c.json'],
    [{ XDG_CONFIG_HOME: '/xdg', HOME: '/h' }, '/xdg/dcctl/config.json'],
    [{ HOME: '/h' }, '/h/.config/dcctl/config.json'],
  ])('resolves the path from %o', (env, expected) => {
    expect(configPath(env)).toBe(expected);
  });

  it('writes atomically with mode 0600 and reads back', () => {
    const path = join(tmp.dir, 'nested', 'config.json');
    writeConfig(path, { token: 'secret', api: 'h:1' });
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readConfig(path)).toEqual({ token: 'secret', api: 'h:1' });
    writeConfig(path, { api: 'h:2' });
    expect(readConfig(path)).toEqual({ api: 'h:2' });
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('treats a missing file as empty and refuses a corrupt one, naming the file', () => {
    expect(readConfig(join(tmp.dir, 'absent.json'))).toEqual({});
    const bad = join(tmp.dir, 'bad.json');
    writeFileSync(bad, '{not json');
    expect(() => readConfig(bad)).toThrow(ConfigFileError);
    expect(() => readConfig(bad)).toThrow(bad);
    writeFileSync(bad, JSON.stringify({ token: 5 }));
    expect(() => readConfig(bad)).toThrow('key "token" must be a string (got 5)');
    expect(readFileSync(bad, 'utf8')).toContain('5');
  });
});
