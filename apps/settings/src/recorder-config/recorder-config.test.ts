// Recorder configuration: SPEC 2.5/2.6 parameter checks, @dc/filters validation, the SPEC 2.7 merge.
import { afterEach, describe, expect, it } from 'vitest';
import { openTestSettings, type TestSettings } from '../testing/test-settings';
import { validateRecorderJson } from './recorder-parameters';

let t: TestSettings;
afterEach(async () => t?.cleanup());

const filters = (id: string, action = 'exclude') =>
  JSON.stringify({ version: 1, rules: [{ id, family: 'process', action, when: { field: 'exe', endsWith: '/cron' } }] });

describe('recorder.json validation (SPEC 2.5, 2.6)', () => {
  it('accepts the documented parameters', () => {
    const doc = { cpuThreshold: 0.5, logMaxSize: '20 MB', MonitorDays: 30, BatchWriteDelayMS: 5000, ETWBufferSize: 64, rawLogging: false };
    expect(validateRecorderJson('recorder.json', JSON.stringify(doc), false)).toEqual(doc);
  });

  it.each([
    ['{', 'recorder.json: must be valid JSON'],
    ['[]', 'recorder.json: must be a JSON object'],
    ['{"cpuThreshold": 2}', 'recorder.json $.cpuThreshold 2: must be a number above 0 and at most 1'],
    ['{"cpuThresholdMinutes": 1441}', 'recorder.json $.cpuThresholdMinutes 1441: must be a whole number from 1 to 1440'],
    ['{"MonitorDays": 70000}', 'recorder.json $.MonitorDays 70000: must be a whole number from 0 to 65536'],
    ['{"BatchWriteDelayMS": -1}', '$.BatchWriteDelayMS -1'],
    ['{"MonitorFiles": 2}', '$.MonitorFiles 2: must be 0 or 1'],
    ['{"logMaxSize": "ten"}', '$.logMaxSize "ten": must be a size'],
    ['{"logLevel": "Loud"}', '$.logLevel "Loud": must be one of Trace, Debug, Information'],
    ['{"cpuKillEnabled": "yes"}', '$.cpuKillEnabled "yes": must be true or false'],
    ['{"frobnicate": 1}', '$.frobnicate 1: is not a recorder parameter of SPEC 2.5/2.6'],
    ['{"MaxStorageSizeMB": 100, "AbsoluteMaxStorageSizeMB": 50}', '$.AbsoluteMaxStorageSizeMB 50: must be at least MaxStorageSizeMB (100)'],
  ])('refuses %s', (text, message) => {
    expect(() => validateRecorderJson('recorder.json', text, false)).toThrow(message);
  });

  it("limits a module's file to the merged fields", () => {
    expect(() => validateRecorderJson('im_recorder.json', '{"MonitorDays": 5}', true)).toThrow(
      "im_recorder.json $.MonitorDays 5: a module's recorder file may set only the merged fields",
    );
  });
});

const cfg = (module: string, files: Partial<Record<'recorder' | 'filters' | 'watchlist' | 'signals', string>>) => ({
  module,
  recorder: '',
  filters: '',
  watchlist: '',
  signals: '',
  ...files,
});

describe('recorder configuration per module', () => {
  it('reports every problem of every file, with @dc/filters paths, and stores nothing', () => {
    t = openTestSettings();
    const rc = t.settings.recorderConfig;
    const { errors, config } = rc.put(
      'op',
      cfg('map', {
        recorder: '{"cpuThreshold": 3, "MonitorDays": 5}',
        filters: '{"version":1,"rules":[{"id":"x","family":"process","action":"drop","when":{"field":"exe","equals":"a"}}]}',
        watchlist: '{"paths":["etc/"]}',
      }),
    );
    expect(config).toBeUndefined();
    expect(errors.map((e) => e.message)).toEqual([
      'map_recorder.json $.cpuThreshold 3: must be a number above 0 and at most 1',
      expect.stringContaining("map_recorder.json $.MonitorDays 5: a module's recorder file may set only the merged fields"),
      'map_filters.json $.rules[0].action "drop": must be one of include, exclude',
      expect.stringMatching(/^map_watchlist\.json \$\.paths\[0\] "etc\/": must be an absolute path/),
    ]);
    expect(rc.list()).toEqual([]);
    expect(() => rc.put('op', cfg('Bad', { filters: filters('a') }))).toThrow('module "Bad"');
  });

  it('stores a valid module and names its files as on the endpoint', () => {
    t = openTestSettings();
    const rc = t.settings.recorderConfig;
    expect(rc.put('op', cfg('im', { watchlist: '{"paths":["/etc/"]}', recorder: '{"maxSizeMB": 10}' })).errors).toEqual([]);
    rc.put('op', cfg('map', { filters: filters('a') }));
    expect(rc.files().map((f) => f.fileName)).toEqual(['im_recorder.json', 'watchlist.json', 'map_filters.json']);
    expect(rc.put('op', cfg('map', { filters: filters('b') }), true)).toEqual({ errors: [] });
    expect(rc.get('map').filters).toBe(filters('a'));
  });

  it('computes the merged view of SPEC 2.7', () => {
    t = openTestSettings();
    const rc = t.settings.recorderConfig;
    rc.put('op', cfg('base', { recorder: JSON.stringify({ maxSizeMB: 512, logRotations: 5, cpuThreshold: 0.3, MonitorDays: 30 }), filters: filters('base-rule') }));
    rc.put('op', cfg('im', { recorder: JSON.stringify({ maxSizeMB: 2048, logMaxSize: '5 MB', rawLogging: false }) }));
    rc.put('op', cfg('map', { recorder: JSON.stringify({ logRotations: 2, cpuThreshold: 0.1, cpuKillEnabled: false, rawLogging: true }), filters: filters('map-rule', 'include') }));
    const linux = rc.merged('LINUX');
    expect(linux.recorder).toMatchObject({
      maxSizeMB: 2048, // largest
      logRotations: 5, // largest
      logMaxSize: '5 MB', // smallest
      rawLogging: false, // false if any is false
      cpuThreshold: 0.1, // smallest
      cpuKillEnabled: false, // disabled if any is false
      MonitorDays: 30, // base file
      BatchWriteDelayMS: 1000, // default
      MaxRuntimeStorageSizeMB: 2048, // 2 × MaxStorageSizeMB
    });
    const field = (name: string) => linux.fields.find((f) => f.name === name);
    expect(field('maxSizeMB')).toEqual({ name: 'maxSizeMB', valueJson: '2048', strategy: 'LARGEST', decidedBy: ['im'], isDefault: false });
    expect(field('cpuKillEnabled')).toMatchObject({ valueJson: 'false', strategy: 'FALSE_IF_ANY_FALSE', decidedBy: ['map'] });
    expect(field('MonitorDays')).toMatchObject({ strategy: 'BASE_WINS', decidedBy: ['base'], isDefault: false });
    expect(field('BatchWriteDelayMS')).toMatchObject({ strategy: 'BASE_WINS', isDefault: true });
    expect(linux.modules).toEqual(['base', 'im', 'map']);
    expect(linux.filterRules.map((r) => [r.ruleId, r.module])).toEqual(expect.arrayContaining([['base-rule', 'base'], ['map-rule', 'map']]));
    expect(rc.merged('WINDOWS').recorder).not.toHaveProperty('rawLogging');
  });

  it('leaves rawLogging unset and uses the defaults when no file sets them', () => {
    t = openTestSettings();
    const merged = t.settings.recorderConfig.merged('LINUX');
    expect(merged.recorder).not.toHaveProperty('rawLogging');
    expect(merged.recorder).toMatchObject({ maxSizeMB: 1024, logRotations: 3, logMaxSize: '10 MB', cpuThreshold: 0.25, cpuKillEnabled: true });
    expect(merged.fields.find((f) => f.name === 'rawLogging')).toMatchObject({ valueJson: '', isDefault: true });
  });
});
