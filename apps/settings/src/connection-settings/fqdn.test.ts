// FQDN / host validation (RFC 1123) and the resolution warning, table-driven.
import { describe, expect, it } from 'vitest';
import { resolutionWarning, validateHost } from './fqdn';

describe('validateHost', () => {
  it.each([
    ['module-server.example.com', 'module-server.example.com', 'dns-name'],
    ['MODULE.Example.COM.', 'module.example.com', 'dns-name'],
    ['10.1.2.3', '10.1.2.3', 'ipv4'],
    ['2001:db8::1', '2001:db8::1', 'ipv6'],
    ['[2001:db8::1]', '2001:db8::1', 'ipv6'],
    [`${'a'.repeat(63)}.example.com`, `${'a'.repeat(63)}.example.com`, 'dns-name'],
  ])('accepts %s', (input, host, kind) => {
    expect(validateHost('fqdn', input)).toMatchObject({ host, kind });
  });

  it.each([
    ['exa mple.com', 'fqdn "exa mple.com": label "exa mple" is not a valid DNS label (letters, digits, hyphens; 1–63 chars)'],
    ['-bad.example.com', 'fqdn "-bad.example.com": label "-bad" is not a valid DNS label (letters, digits, hyphens; 1–63 chars)'],
    ['bad-.example.com', 'label "bad-" is not a valid DNS label'],
    ['under_score.example.com', 'label "under_score" is not a valid DNS label'],
    [`${'a'.repeat(64)}.example.com`, `label "${'a'.repeat(64)}" is not a valid DNS label`],
    ['a..example.com', 'has an empty label'],
    ['', 'is required'],
    ['10.0.0.256', 'is neither a valid IP address nor a host name'],
    [`${'abcdefghi.'.repeat(25)}example.com`, 'characters long; at most 253 are allowed'],
  ])('refuses %j, naming the rule', (input, message) => {
    expect(() => validateHost('fqdn', input)).toThrow(message);
  });

  it('warns that a single-label name is not fully qualified, or refuses it when a qualified name is required', () => {
    expect(validateHost('endpointTargetHostname', 'zoneserver').warnings[0]).toContain('single-label name');
    expect(() => validateHost('fqdn', 'modserver', { requireQualified: true })).toThrow('fqdn "modserver": is a single-label name');
  });

  it('accepts localhost where a qualified name is required, warning that only this machine’s endpoints reach it', () => {
    const check = validateHost('fqdn', 'LocalHost', { requireQualified: true });
    expect(check.host).toBe('localhost');
    expect(check.warnings[0]).toContain("reaches only endpoints on the module server's own machine");
  });
});

describe('resolutionWarning', () => {
  it('reports a name that does not resolve as a warning, not an error', async () => {
    const check = validateHost('fqdn', 'nowhere.example.test');
    const warning = await resolutionWarning('fqdn', check, async () => {
      throw new Error('getaddrinfo ENOTFOUND nowhere.example.test');
    });
    expect(warning).toContain('does not resolve from the settings server (getaddrinfo ENOTFOUND');
  });

  it('says nothing when the name resolves, or for an IP address', async () => {
    const resolve = async () => ({ address: '10.0.0.1' });
    expect(await resolutionWarning('fqdn', validateHost('fqdn', 'ok.example.com'), resolve)).toBeUndefined();
    expect(await resolutionWarning('fqdn', validateHost('fqdn', '10.0.0.1'), resolve)).toBeUndefined();
  });
});
