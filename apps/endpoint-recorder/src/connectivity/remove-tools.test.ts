import { chmodSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gatewayV1 as gateway } from '@dc/proto';
import { makeTempDir } from '@dc/service-kit/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { goodbyeOnSignal } from './goodbye-reason';
import { RemovalError, removeItems, type ToolsLayout, toolsRemovalPlan } from './remove-tools';

/** A tools directory as `recorder connect` leaves it, plus things outside it that must survive. */
function toolsDir(root: string): { layout: ToolsLayout; outside: string } {
  const tools = join(root, 'tools');
  const outside = join(root, 'outside');
  mkdirSync(join(tools, 'identity'), { recursive: true });
  mkdirSync(join(tools, 'keys'), { recursive: true });
  mkdirSync(outside, { recursive: true });
  for (const f of ['identity/endpoint.key', 'identity/endpoint.crt', 'identity/ca.pem', 'identity/identity.json', 'keys/k1.json', 'configuration.json', 'connect.pid', 'recorder.json', 'filters.json', 'monitor.db', 'monitor.db-wal', 'monitor.db-shm']) {
    writeFileSync(join(tools, f), f);
  }
  writeFileSync(join(outside, 'precious.txt'), 'keep me');
  mkdirSync(join(outside, 'dir'));
  writeFileSync(join(outside, 'dir', 'inner.txt'), 'keep me too');
  // Links out of the tools directory: removed as links, never followed.
  symlinkSync(join(outside, 'precious.txt'), join(tools, 'keys', 'link-to-file'));
  symlinkSync(join(outside, 'dir'), join(tools, 'identity', 'link-to-dir'));
  return {
    outside,
    layout: {
      toolsDir: tools, configurationFile: join(tools, 'configuration.json'), identityDir: join(tools, 'identity'), keysDir: join(tools, 'keys'),
      pidFile: join(tools, 'connect.pid'), monitorDb: join(tools, 'monitor.db'),
    },
  };
}

describe('Remove Tools on the endpoint', () => {
  let tmp = makeTempDir('dc-remove-tools-');
  afterEach(() => {
    chmodSync(tmp.dir, 0o755);
    tmp.remove();
    tmp = makeTempDir('dc-remove-tools-');
  });

  it('removes the agent\'s identity, configuration, keys and pid file, keeps the recorder data, and never follows a link out', () => {
    const { layout, outside } = toolsDir(tmp.dir);
    const removed = removeItems(toolsRemovalPlan(layout, false));
    for (const p of [layout.identityDir, layout.keysDir, layout.configurationFile, layout.pidFile]) expect(existsSync(p), p).toBe(false);
    for (const f of ['monitor.db', 'monitor.db-wal', 'monitor.db-shm', 'recorder.json', 'filters.json']) expect(existsSync(join(layout.toolsDir, f)), f).toBe(true);
    expect(readFileSync(join(outside, 'precious.txt'), 'utf8')).toBe('keep me');
    expect(readFileSync(join(outside, 'dir', 'inner.txt'), 'utf8')).toBe('keep me too');
    expect(removed).toContain(join(layout.keysDir, 'link-to-file'));
    expect(removed).not.toContain(join(outside, 'dir', 'inner.txt'));
  });

  it('with remove_recorder_data also removes monitor.db with its -wal/-shm and the recorder configuration directory', () => {
    const { layout, outside } = toolsDir(tmp.dir);
    removeItems(toolsRemovalPlan(layout, true));
    expect(existsSync(layout.toolsDir)).toBe(false);
    expect(readFileSync(join(outside, 'precious.txt'), 'utf8')).toBe('keep me');
    expect(readFileSync(join(outside, 'dir', 'inner.txt'), 'utf8')).toBe('keep me too');
  });

  it('refuses a path whose directory is a link leading out of its root, naming it, and removes nothing there', () => {
    const { layout, outside } = toolsDir(tmp.dir);
    // The configuration file is configured inside tools/, but tools/pkg is a link to the outside directory.
    symlinkSync(outside, join(layout.toolsDir, 'pkg'));
    const item = { root: layout.toolsDir, path: join(layout.toolsDir, 'pkg', 'precious.txt') };
    expect(() => removeItems([item])).toThrow(RemovalError);
    expect(() => removeItems([item])).toThrow(/cannot remove .*pkg\/precious\.txt: it lies outside/);
    expect(readFileSync(join(outside, 'precious.txt'), 'utf8')).toBe('keep me');
  });

  it('names the file it could not remove, and stops there with the identity (removed last) still in place', () => {
    const { layout } = toolsDir(tmp.dir);
    // A configured path running through a file fails for every user, root included.
    const bad = { root: layout.toolsDir, path: join(layout.toolsDir, 'recorder.json', 'x') };
    expect(() => removeItems([bad, ...toolsRemovalPlan(layout, false)])).toThrow(/^cannot remove .*\/tools\/recorder\.json\/x: ENOTDIR/);
    expect(existsSync(join(layout.identityDir, 'identity.json'))).toBe(true);
    if (process.getuid?.() !== 0) {
      // Without root, a directory the agent may not write to is the usual cause.
      chmodSync(layout.keysDir, 0o500);
      try {
        expect(() => removeItems(toolsRemovalPlan(layout, false))).toThrow(/cannot remove .*\/keys\/k1\.json: .*EACCES/);
      } finally {
        chmodSync(layout.keysDir, 0o700);
      }
    }
  });

  it('a missing path is nothing to do', () => {
    expect(removeItems([{ root: tmp.dir, path: join(tmp.dir, 'never-there') }, { root: join(tmp.dir, 'no-root'), path: join(tmp.dir, 'no-root', 'x') }])).toEqual([]);
  });
});

describe('Goodbye on a signal', () => {
  it('says MACHINE_SHUTDOWN when systemd reports the system stopping at SIGTERM', async () => {
    expect((await goodbyeOnSignal('SIGTERM', async () => 'stopping')).reason).toBe(gateway.GoodbyeReason.GOODBYE_REASON_MACHINE_SHUTDOWN);
  });

  it('says AGENT_STOPPED otherwise: a running system, SIGINT, or a probe that fails', async () => {
    expect((await goodbyeOnSignal('SIGTERM', async () => 'running')).reason).toBe(gateway.GoodbyeReason.GOODBYE_REASON_AGENT_STOPPED);
    expect((await goodbyeOnSignal('SIGTERM', async () => 'degraded')).reason).toBe(gateway.GoodbyeReason.GOODBYE_REASON_AGENT_STOPPED);
    expect((await goodbyeOnSignal('SIGINT', async () => 'stopping')).reason).toBe(gateway.GoodbyeReason.GOODBYE_REASON_AGENT_STOPPED);
    const failing = await goodbyeOnSignal('SIGTERM', () => Promise.reject(new Error('no systemctl')));
    expect(failing.reason).toBe(gateway.GoodbyeReason.GOODBYE_REASON_AGENT_STOPPED);
    expect(failing.detail).toBe('recorder connect stopped by SIGTERM');
  });
});
