import { afterEach, describe, expect, it } from 'vitest';
import { openTestSettings, type TestSettings } from '../testing/test-settings';
import { compileRules, type ComputerGroupRules, validateRules } from './rules';

const none: ComputerGroupRules = { hostnamePatterns: [], operatingSystems: [], ipRanges: [], tags: [] };
const linuxWeb = { hostname: 'WEB-01.corp.example', os: 'LINUX', ipAddresses: ['10.1.2.3', 'fe80::1'], tags: ['prod'] };

describe('computer group rules', () => {
  it.each([
    [{ hostnamePatterns: ['web-*.corp.example'] }, true],
    [{ hostnamePatterns: ['db-*'] }, false],
    [{ hostnamePatterns: ['web-0?.corp.example'] }, true],
    [{ operatingSystems: ['LINUX', 'MACOS'] }, true],
    [{ operatingSystems: ['WINDOWS'] }, false],
    [{ ipRanges: ['10.1.0.0/16'] }, true],
    [{ ipRanges: ['10.2.0.0/16', '10.1.2.3'] }, true],
    [{ ipRanges: ['fe80::/10'] }, true],
    [{ ipRanges: ['192.168.0.0/16'] }, false],
    [{ tags: ['PROD'] }, true],
    [{ tags: ['staging'] }, false],
    [{ hostnamePatterns: ['web-*'], operatingSystems: ['WINDOWS'] }, false],
    [{ hostnamePatterns: ['web-*'], ipRanges: ['10.0.0.0/8'], tags: ['prod'] }, true],
  ])('%j matches a Linux web server: %s', (rules, expected) => {
    const full = { ...none, ...rules } as ComputerGroupRules;
    expect(compileRules(validateRules(full))(linuxWeb)).toBe(expected);
  });

  it.each([
    [none, 'rules: at least one rule is required'],
    [{ ...none, ipRanges: ['10.0.0.0/33'] }, 'ipRanges "10.0.0.0/33": must be an IPv4 or IPv6 address'],
    [{ ...none, ipRanges: ['web'] }, 'ipRanges "web"'],
    [{ ...none, operatingSystems: ['BEOS'] }, 'operatingSystems "BEOS": must be one of WINDOWS, LINUX, MACOS'],
    [{ ...none, hostnamePatterns: ['a b'] }, 'hostnamePatterns "a b"'],
    [{ ...none, tags: ['has space'] }, 'tags "has space"'],
  ])('refuses bad rules %#', (rules, message) => {
    expect(() => validateRules(rules as ComputerGroupRules)).toThrow(message);
  });
});

describe('action group', () => {
  let t: TestSettings;
  afterEach(async () => t?.cleanup());

  it('starts as All Computers in default set-up and No Computers in custom set-up', async () => {
    t = openTestSettings();
    t.settings.setup('default', 'installer');
    expect(t.settings.actionGroup.contains(linuxWeb)).toEqual({ inActionGroup: true, reason: 'the action group targets All Computers' });
    expect(t.settings.serviceAccount.get().user).toBe('installer');
    await t.cleanup();
    t = openTestSettings();
    t.settings.setup('custom', 'installer');
    expect(t.settings.actionGroup.contains(linuxWeb).inActionGroup).toBe(false);
    expect(t.settings.serviceAccount.get().user).toBe('');
  });

  it('targets a computer group, and keeps that group from being deleted', () => {
    t = openTestSettings();
    const { computerGroups, actionGroup } = t.settings;
    computerGroups.save('op', { name: 'linux-prod', description: '', rules: { ...none, operatingSystems: ['LINUX'], tags: ['prod'] } }, false);
    expect(() => actionGroup.set('op', { target: 'COMPUTER_GROUP', computerGroup: 'nope' })).toThrow('computer group "nope" does not exist');
    actionGroup.set('op', { target: 'COMPUTER_GROUP', computerGroup: 'linux-prod' });
    expect(actionGroup.contains(linuxWeb)).toEqual({ inActionGroup: true, reason: 'endpoint matches computer group "linux-prod"' });
    expect(actionGroup.contains({ ...linuxWeb, os: 'WINDOWS' }).inActionGroup).toBe(false);
    expect(() => computerGroups.delete('op', 'linux-prod')).toThrow('it is the target of the action group');
    actionGroup.set('op', { target: 'ALL_COMPUTERS', computerGroup: '' });
    computerGroups.delete('op', 'linux-prod');
    expect(computerGroups.list()).toEqual([]);
  });

  it('refuses a duplicate group and the update of a missing one', () => {
    t = openTestSettings();
    const g = { name: 'g', description: '', rules: { ...none, tags: ['x'] } };
    t.settings.computerGroups.save('op', g, false);
    expect(() => t.settings.computerGroups.save('op', g, false)).toThrow('computer group "g" already exists');
    expect(() => t.settings.computerGroups.save('op', { ...g, name: 'h' }, true)).toThrow('computer group "h" does not exist');
  });
});
