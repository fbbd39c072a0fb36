// Computer-group rules and the action group (SPEC 1.4.2), table-driven.
import { afterEach, describe, expect, it } from 'vitest';
import { openTestSettings, type TestSettings } from '../testing/test-settings';
import { type ComputerGroupRule, compileRules, type RuleKind, validateRules } from './rules';

const linuxWeb = { hostname: 'WEB-01', fqdn: 'web-01.corp.example', os: 'LINUX', ipAddresses: ['10.1.2.3', 'fe80::1'], tags: ['prod'] };
const r = (kind: RuleKind, value: string, negate = false): ComputerGroupRule => ({ kind, value, negate });

describe('computer group rules', () => {
  it.each([
    ['ALL', [r('hostNamePattern', 'web-*')], true],
    ['ALL', [r('hostNamePattern', 'web-*.corp.example')], true],
    ['ALL', [r('hostNamePattern', 'db-*')], false],
    ['ALL', [r('hostNamePattern', 'web-0?')], true],
    ['ALL', [r('os', 'LINUX')], true],
    ['ALL', [r('os', 'WINDOWS')], false],
    ['ALL', [r('os', 'WINDOWS', true)], true],
    ['ALL', [r('ipCidr', '10.1.0.0/16')], true],
    ['ALL', [r('ipCidr', '10.1.2.3')], true],
    ['ALL', [r('ipCidr', 'fe80::/10')], true],
    ['ALL', [r('ipCidr', '192.168.0.0/16')], false],
    ['ALL', [r('tag', 'PROD')], true],
    ['ALL', [r('tag', 'staging')], false],
    ['ALL', [r('hostNamePattern', 'web-*'), r('os', 'WINDOWS')], false],
    ['ANY', [r('hostNamePattern', 'web-*'), r('os', 'WINDOWS')], true],
    ['ANY', [r('tag', 'staging'), r('os', 'MACOS')], false],
  ] as const)('match %s of %j: %s', (match, rules, expected) => {
    expect(compileRules(match, validateRules([...rules])).matches(linuxWeb)).toBe(expected);
  });

  it.each([
    [[], 'rules: at least one rule is required'],
    [[r('ipCidr', '10.0.0.0/33')], 'rules[0].ipCidr "10.0.0.0/33": must be an IPv4 or IPv6 address'],
    [[r('tag', 'x'), r('ipCidr', 'web')], 'rules[1].ipCidr "web"'],
    [[r('os', 'BEOS')], 'rules[0].os "BEOS": must be one of WINDOWS, LINUX, MACOS'],
    [[r('hostNamePattern', 'a b')], 'rules[0].hostNamePattern "a b"'],
    [[r('tag', 'has space')], 'rules[0].tag "has space"'],
  ])('refuses bad rules %#', (rules, message) => {
    expect(() => validateRules(rules)).toThrow(message);
  });
});

describe('action group', () => {
  let t: TestSettings;
  afterEach(async () => t?.cleanup());

  it('starts as All Computers in default set-up and No Computers in custom set-up', async () => {
    t = openTestSettings();
    t.settings.setup('default', 'installer');
    expect(t.settings.actionGroup.contains(linuxWeb)).toMatchObject({ inActionGroup: true, explanation: 'the action group targets All Computers' });
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
    const g = computerGroups.create('op', { name: 'linux-prod', description: '', match: 'ALL', rules: [r('os', 'LINUX'), r('tag', 'prod')] });
    expect(() => actionGroup.set('op', { target: 'COMPUTER_GROUP', computerGroupId: 'nope' })).toThrow('computer group "nope" does not exist');
    actionGroup.set('op', { target: 'COMPUTER_GROUP', computerGroupId: g.id });
    expect(actionGroup.contains(linuxWeb)).toEqual({
      inActionGroup: true,
      computerGroupIds: [g.id],
      explanation: 'the action group is computer group "linux-prod"; matched rules os "LINUX", tag "prod"',
    });
    expect(actionGroup.contains({ ...linuxWeb, os: 'WINDOWS' }).inActionGroup).toBe(false);
    expect(() => computerGroups.delete('op', g.id)).toThrow('it is the target of the action group');
    actionGroup.set('op', { target: 'ALL_COMPUTERS', computerGroupId: '' });
    computerGroups.delete('op', g.id);
    expect(computerGroups.list()).toEqual([]);
  });

  it('refuses a duplicate name and a stale revision', () => {
    t = openTestSettings();
    const input = { name: 'g', description: '', match: 'ALL' as const, rules: [r('tag', 'x')] };
    const g = t.settings.computerGroups.create('op', input);
    expect(() => t.settings.computerGroups.create('op', input)).toThrow('computer group "g" already exists');
    const updated = t.settings.computerGroups.update('op', g.id, g.revision, { ...input, rules: [r('tag', 'y')] });
    expect(() => t.settings.computerGroups.update('op', g.id, g.revision, input)).toThrow(`changed since revision ${g.revision}`);
    expect(t.settings.computerGroups.get(g.id)).toMatchObject({ revision: updated.revision, rules: [r('tag', 'y')] });
  });
});
