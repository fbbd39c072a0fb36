// Table-driven tests of recorder.json validation and the SPEC 2.7 merge of module configs.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './load-config';

const dirs: string[] = [];
function configDir(files: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), 'rec-config-'));
  dirs.push(dir);
  for (const [name, body] of Object.entries(files)) {
    writeFileSync(join(dir, name), typeof body === 'string' ? body : JSON.stringify(body));
  }
  return dir;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function errorOf(files: Record<string, unknown>): string {
  try {
    loadConfig(configDir(files));
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('fills every SPEC default when no file exists', () => {
    const c = loadConfig(configDir({}));
    expect(c).toMatchObject({
      cpuKillAfterNumViolations: 1,
      cpuKillEnabled: true,
      cpuThreshold: 0.25,
      cpuThresholdMinutes: 1,
      dbLocation: 'monitor.db',
      filterLocation: 'filters.json',
      logLevel: 'info',
      logMaxSize: 10 * 1024 * 1024,
      logRotations: 3,
      maxSizeMB: 1024,
      rawLogging: undefined,
      throttle: false,
      onlyWatchFileRoot: true,
      MonitorDays: 90,
      MaxRuntimeStorageSizeMB: 2048,
      AbsoluteMaxStorageSizeMB: 2048,
      PendingEventCap: 5000,
      BatchWriteDelayMS: 1000,
      ProcessExpirationSeconds: 180,
      DatabaseCleanupIntervalMinutes: 30,
    });
    expect(c.paths.db).toBe(join(c.configDir, 'monitor.db'));
  });

  it.each([
    [{ cpuThresholdMinutes: 5000 }, 'recorder.json: key "cpuThresholdMinutes" must be an integer from 1 to 1440 (got 5000)'],
    [{ cpuThresholdMinutes: 1.5 }, 'recorder.json: key "cpuThresholdMinutes" must be an integer from 1 to 1440 (got 1.5)'],
    [{ cpuThreshold: 0 }, 'recorder.json: key "cpuThreshold" must be a number above 0 up to 1 (got 0)'],
    [{ cpuThreshold: '25%' }, 'recorder.json: key "cpuThreshold" must be a number above 0 up to 1 (got "25%")'],
    [{ cpuKillEnabled: 'yes' }, 'recorder.json: key "cpuKillEnabled" must be true/false (or 1/0) (got "yes")'],
    [{ logMaxSize: '10 parsecs' }, 'recorder.json: key "logMaxSize" must be a size from 64 KB to 1024 MB'],
    [{ logLevel: 'chatty' }, 'recorder.json: key "logLevel" must be one of trace,'],
    [{ PendingEventCap: -1 }, 'recorder.json: key "PendingEventCap" must be an integer ≥ 0 (got -1)'],
    [{ BatchWriteDelayMS: 6000 }, 'recorder.json: key "BatchWriteDelayMS" must be an integer from 0 to 5000 (got 6000)'],
    [{ MonitorDays: 70000 }, 'recorder.json: key "MonitorDays" must be an integer from 0 to 65536 (got 70000)'],
    [{ CleanPercentOverLimit: 101 }, 'recorder.json: key "CleanPercentOverLimit" must be an integer from 0 to 100 (got 101)'],
    [{ DatabaseCleanupIntervalMinutes: 0 }, 'recorder.json: key "DatabaseCleanupIntervalMinutes" must be an integer from 1 to 2880 (got 0)'],
    [{ EventQueueExpirationSeconds: 0 }, 'recorder.json: key "EventQueueExpirationSeconds" must be an integer ≥ 1 (got 0)'],
    [{ dbLocation: '' }, 'recorder.json: key "dbLocation" must be a non-empty file path (got "")'],
  ])('rejects %j with a message naming file, key and range', (body, message) => {
    expect(errorOf({ 'recorder.json': body })).toContain(message);
  });

  it('names the module file that holds the bad value and lists every problem', () => {
    const msg = errorOf({
      'recorder.json': { maxSizeMB: -5 },
      'im_recorder.json': { NewEventLimit: 100001 },
    });
    expect(msg.split('\n')).toEqual([
      'recorder.json: key "maxSizeMB" must be an integer from 0 to 1048576 (got -5)',
      'im_recorder.json: key "NewEventLimit" must be an integer from 0 to 100000 (got 100001)',
    ]);
  });

  it('reports a file that is not JSON or not an object', () => {
    expect(errorOf({ 'recorder.json': '{ "a": ' })).toMatch(/^recorder\.json: is not valid JSON/);
    expect(errorOf({ 'map_recorder.json': [1] })).toBe('map_recorder.json: must hold a JSON object (got an array)');
  });

  it('accepts registry-style 0/1 flags, size text and log level names', () => {
    const c = loadConfig(configDir({ 'recorder.json': { MonitorNetwork: 0, DisableTrace: 1, logMaxSize: '512 KB', logLevel: 'Warning' } }));
    expect([c.MonitorNetwork, c.DisableTrace, c.logMaxSize, c.logLevel]).toEqual([false, true, 512 * 1024, 'warn']);
  });

  it('warns that SQLiteChunkSizeMB, validated, has no effect — only when a file sets it', () => {
    expect(loadConfig(configDir({ 'recorder.json': {} })).warnings).toEqual([]);
    const c = loadConfig(configDir({ 'im_recorder.json': { SQLiteChunkSizeMB: 10 } }));
    expect(c.warnings).toEqual([expect.stringMatching(/^SQLiteChunkSizeMB: needs sqlite3_file_control\(SQLITE_FCNTL_CHUNK_SIZE\).*ignored$/)]);
    expect(errorOf({ 'recorder.json': { SQLiteChunkSizeMB: -1 } })).toContain('key "SQLiteChunkSizeMB" must be an integer from 0 to 4096 (got -1)');
  });

  it('warns about unknown keys instead of failing', () => {
    const c = loadConfig(configDir({ 'recorder.json': { ForceSysmon: 1 } }));
    expect(c.warnings).toEqual(['recorder.json: unknown key "ForceSysmon" ignored']);
  });

  it.each([
    ['maxSizeMB takes the largest', { maxSizeMB: 512 }, { maxSizeMB: 2048 }, { maxSizeMB: 1024 }, 'maxSizeMB', 2048],
    ['logRotations takes the largest', { logRotations: 1 }, { logRotations: 7 }, {}, 'logRotations', 7],
    ['logMaxSize takes the smallest', { logMaxSize: '20 MB' }, { logMaxSize: 1048576 }, {}, 'logMaxSize', 1048576],
    ['cpuThreshold takes the smallest', { cpuThreshold: 0.5 }, { cpuThreshold: 0.1 }, { cpuThreshold: 0.3 }, 'cpuThreshold', 0.1],
    ['rawLogging is false if any is false', { rawLogging: true }, { rawLogging: false }, {}, 'rawLogging', false],
    ['rawLogging is true when all that set it say true', {}, { rawLogging: true }, {}, 'rawLogging', true],
    ['rawLogging stays unset when no file sets it', {}, {}, {}, 'rawLogging', undefined],
    ['cpuKillEnabled is disabled if any is false', {}, {}, { cpuKillEnabled: false }, 'cpuKillEnabled', false],
    ['other keys: the base file wins', { MonitorDays: 30 }, { MonitorDays: 10 }, {}, 'MonitorDays', 30],
    ['other keys: a module file fills what the base leaves unset', {}, { MonitorDays: 10 }, { MonitorDays: 20 }, 'MonitorDays', 10],
  ])('merges modules: %s', (_name, base, im, map, key, expected) => {
    const c = loadConfig(configDir({ 'recorder.json': base, 'im_recorder.json': im, 'map_recorder.json': map }));
    expect(c.files).toEqual(['recorder.json', 'im_recorder.json', 'map_recorder.json']);
    expect(c[key as keyof typeof c]).toEqual(expected);
  });

  it('derives the runtime and absolute caps from the merged maxSizeMB', () => {
    const c = loadConfig(configDir({ 'recorder.json': { maxSizeMB: 100 }, 'x_recorder.json': { maxSizeMB: 300 } }));
    expect([c.MaxRuntimeStorageSizeMB, c.AbsoluteMaxStorageSizeMB]).toEqual([600, 600]);
  });
});
