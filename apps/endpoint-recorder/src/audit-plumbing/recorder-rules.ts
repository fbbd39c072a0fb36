// The recorder's audit rules and how they sit in audit.rules: one marked block, before `-e 2` (SPEC 2.3).

export const RULES_BEGIN = '## BEGIN endpoint-recorder rules (managed by `recorder install-audit`; do not edit)';
export const RULES_END = '## END endpoint-recorder rules';
/** Keys the rules carry, so `auditctl -D -k KEY` can remove exactly ours. */
export const RULE_KEYS = ['dc_rec_process', 'dc_rec_file', 'dc_rec_network'] as const;

/**
 * Where the file rules look (SPEC 2.5 onlyWatchFileRoot): `root`, the whole file system from
 * `/` (true, the default); or only `paths`, the Integrity Monitor watchlist (false), each as a
 * recursive directory watch (`-F dir=`) or a single file (`-F path=`). No paths: no file rules.
 */
export type FileWatchScope =
  | { readonly kind: 'root' }
  | { readonly kind: 'paths'; readonly paths: ReadonlyArray<{ readonly path: string; readonly dir: boolean }> };

export const WHOLE_FILE_SYSTEM: FileWatchScope = { kind: 'root' };

/**
 * Rules for one architecture. aarch64 (and other new ABIs) have only the *at system calls;
 * auditctl rejects a rule naming a system call the ABI lacks, so the lists differ.
 */
export function recorderRules(arch: string, files: FileWatchScope = WHOLE_FILE_SYSTEM): string[] {
  const legacy = arch === 'x64' || arch === 'ia32';
  const b = arch === 'x64' || arch === 'arm64' || arch === 'ppc64' || arch === 's390x' ? 'b64' : 'b32';
  const at = legacy
    ? {
        write: ['-S open -F a1&03', '-S openat -F a2&03', '-S creat'],
        names: 'unlink,unlinkat,rename,renameat,renameat2,rmdir,link,linkat,symlink,symlinkat,mkdir,mkdirat',
        attrs: 'chmod,fchmod,fchmodat,chown,fchown,fchownat,lchown',
      }
    : {
        write: ['-S openat -F a2&03'],
        names: 'unlinkat,renameat,renameat2,linkat,symlinkat,mkdirat',
        attrs: 'fchmod,fchmodat,fchown,fchownat',
      };
  const fileRules = [...at.write, `-S ${at.names}`, `-S ${at.attrs}`];
  const where = files.kind === 'root' ? [''] : files.paths.map((p) => ` -F ${p.dir ? 'dir' : 'path'}=${p.path}`);
  const rules = [
    `-a always,exit -F arch=${b} -S execve,execveat -k dc_rec_process`,
    ...where.flatMap((w) => fileRules.map((s) => `-a always,exit -F arch=${b} ${s}${w} -F success=1 -k dc_rec_file`)),
    `-a always,exit -F arch=${b} -S connect,accept,accept4,bind,listen -k dc_rec_network`,
  ];
  if (arch === 'x64') rules.splice(1, 0, '-a always,exit -F arch=b32 -S execve -k dc_rec_process');
  return rules;
}

const IMMUTABLE = /^\s*-e\s+2\b/;

/** The rules file without our block (and the blank line we put before it). */
export function withoutRecorderRules(text: string): string {
  const lines = text.split('\n');
  const start = lines.indexOf(RULES_BEGIN);
  const end = lines.indexOf(RULES_END);
  if (start < 0 || end < start) return text;
  const from = start > 0 && lines[start - 1] === '' ? start - 1 : start;
  lines.splice(from, end - from + 1);
  return lines.join('\n');
}

/**
 * Puts our block into audit.rules: replacing an earlier block, else before the immutable flag
 * `-e 2` (rules after it are rejected), else at the end. Reports whether `-e 2` is present: the
 * kernel then refuses rule changes until a reboot.
 */
export function withRecorderRules(text: string, arch: string, files: FileWatchScope = WHOLE_FILE_SYSTEM): { text: string; immutable: boolean } {
  const lines = withoutRecorderRules(text).split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const at = lines.findIndex((l) => IMMUTABLE.test(l));
  const where = at < 0 ? lines.length : at;
  const block = [...(where > 0 ? [''] : []), RULES_BEGIN, ...recorderRules(arch, files), RULES_END];
  lines.splice(where, 0, ...block);
  return { text: `${lines.join('\n')}\n`, immutable: at >= 0 };
}
