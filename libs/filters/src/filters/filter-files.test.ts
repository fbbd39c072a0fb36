// compileFilterFiles: SPEC 2.3 file names to one FilterSet, bad files left out and reported.
import { describe, expect, it } from 'vitest';
import { compileFilterFiles } from './filter-files';

const rule = (id: string, prefix: string) =>
  JSON.stringify({ rules: [{ id, family: 'file', action: 'exclude', when: { field: 'path', beginsWith: prefix } }] });

describe('compileFilterFiles', () => {
  it('merges the base file, each module file (sorted by name) and the watchlist', () => {
    const { filterSet, modules, errors } = compileFilterFiles({
      'map_filters.json': rule('drop-etc', '/etc/'),
      'filters.json': rule('drop-tmp', '/tmp/'),
      'im_filters.json': rule('drop-etc', '/etc/ssh/'),
      'watchlist.json': '{"paths": ["/etc/ssh/sshd_config"]}',
    });
    expect(errors).toEqual([]);
    expect(modules).toEqual(['im', 'map']);
    expect(filterSet.decide({ operation: 'write', path: '/tmp/a' }, 'file')).toEqual({ keep: false, reason: 'exclude', ruleId: 'drop-tmp' });
    expect(filterSet.decide({ operation: 'write', path: '/etc/ssh/moduli' }, 'file')).toEqual({ keep: false, reason: 'exclude', ruleId: 'drop-etc', module: 'im' });
    expect(filterSet.decide({ operation: 'write', path: '/etc/hosts' }, 'file')).toEqual({ keep: false, reason: 'exclude', ruleId: 'drop-etc', module: 'map' });
    expect(filterSet.decide({ operation: 'write', path: '/etc/ssh/sshd_config' }, 'file')).toEqual({ keep: true, reason: 'watchlist' });
  });

  it('leaves out a file that does not parse, reports it, and applies the others', () => {
    const { filterSet, modules, errors } = compileFilterFiles({
      'filters.json': rule('drop-tmp', '/tmp/'),
      'map_filters.json': '{"rules": [{"id": "x", "family": "file", "action": "drop", "when": {"field": "path", "equals": "/x"}}]}',
      'notes.txt': 'hello',
    });
    expect(modules).toEqual([]);
    expect(errors.map((e) => e.message)).toEqual([
      'map_filters.json: 1 problem:\n  $.rules[0].action "drop": must be one of include, exclude',
      'notes.txt: 1 problem:\n  $: file name must be filters.json, <module>_filters.json or watchlist.json',
    ]);
    expect(filterSet.decide({ path: '/tmp/a' }, 'file').keep).toBe(false);
  });

  it('uses the configured base file name (SPEC 2.5 filterLocation)', () => {
    const { filterSet, errors } = compileFilterFiles({ 'custom.json': rule('drop-tmp', '/tmp/') }, { baseName: 'custom.json' });
    expect(errors).toEqual([]);
    expect(filterSet.decide({ path: '/tmp/a' }, 'file').keep).toBe(false);
  });
});
