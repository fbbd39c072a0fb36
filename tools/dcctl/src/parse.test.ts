// Option values to contract values: durations, enum words, endpoint targets, ranges (table-driven).
import { commonV1, moduleServerV1 } from '@dc/proto';
import { describe, expect, it } from 'vitest';
import { CliError } from './client/cli-error';
import { parseDuration, parseDurationSeconds, parseEnum, parseEnumList, parseIntIn, parseTarget } from './parse';

describe('parse', () => {
  it.each([
    ['30s', 30],
    ['5m', 300],
    ['1h30m', 5400],
    ['7d', 604800],
    ['1.5s', 1.5],
    ['250ms', 0.25],
  ])('reads the duration %s as %d seconds', (text, seconds) => {
    expect(parseDurationSeconds('--x', text)).toBe(seconds);
  });

  it.each(['', '5', '5 m', 'm5', '1h-3m', '3w'])('refuses the duration "%s" naming the option and the rule', (text) => {
    expect(() => parseDurationSeconds('--interval', text)).toThrow(`--interval "${text}": must be a duration`);
  });

  it('splits a duration into seconds and nanos', () => {
    expect(parseDuration('--x', '1.25s')).toEqual({ seconds: 1, nanos: 250_000_000 });
  });

  it.each([
    ['online', moduleServerV1.EndpointStatus.ENDPOINT_STATUS_ONLINE],
    ['NEVER-CONNECTED', moduleServerV1.EndpointStatus.ENDPOINT_STATUS_NEVER_CONNECTED],
    ['never_connected', moduleServerV1.EndpointStatus.ENDPOINT_STATUS_NEVER_CONNECTED],
  ])('reads the enum word %s', (word, value) => {
    expect(parseEnum(moduleServerV1.EndpointStatus, 'ENDPOINT_STATUS_', '--status', word)).toBe(value);
  });

  it('refuses unknown and UNSPECIFIED enum words, listing the accepted ones', () => {
    expect(() => parseEnum(commonV1.ActionLockMode, 'ACTION_LOCK_MODE_', '--action-lock', 'open')).toThrow(
      '--action-lock "open": must be one of block-all, allow-new-connections, allow-new-connections-and-configuration',
    );
    expect(() => parseEnum(commonV1.ActionLockMode, 'ACTION_LOCK_MODE_', '--action-lock', 'unspecified')).toThrow(CliError);
  });

  it('reads comma-separated enum lists', () => {
    expect(parseEnumList(commonV1.Role, 'ROLE_', '--roles', 'administrator, user')).toEqual([commonV1.Role.ROLE_ADMINISTRATOR, commonV1.Role.ROLE_USER]);
  });

  it.each([
    ['id:abc-123', { $case: 'clientId', value: 'abc-123' }],
    ['10.0.0.7', { $case: 'ipAddress', value: '10.0.0.7' }],
    ['fe80::1', { $case: 'ipAddress', value: 'fe80::1' }],
    ['web-01.example.com', { $case: 'computerName', value: 'web-01.example.com' }],
  ])('reads the endpoint target %s', (text, target) => {
    expect(parseTarget(text)).toEqual({ target });
  });

  it('refuses out-of-range integers with exit code 2', () => {
    try {
      parseIntIn('--port', '70000', 1, 65535);
      expect.unreachable();
    } catch (err) {
      expect((err as CliError).exitCode).toBe(2);
      expect((err as CliError).message).toBe('--port "70000": must be a whole number from 1 to 65535');
    }
  });
});
