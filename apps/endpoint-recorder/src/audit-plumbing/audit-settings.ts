// The audit daemon / dispatcher / plugin settings the recorder reads and writes, with their
// allowed values (SPEC 2.8, seed 002 "audisp" and "auditd" sections).

type Check = (v: string) => boolean;

const oneOf =
  (...allowed: string[]): Check =>
  (v) =>
    allowed.includes(v.toLowerCase());
const int =
  (min: number, max = Number.MAX_SAFE_INTEGER): Check =>
  (v) =>
    /^\d+$/.test(v) && Number(v) >= min && Number(v) <= max;
const anyText: Check = (v) => v.length > 0;
const yesNo = oneOf('yes', 'no');
const nameFormat = oneOf('none', 'hostname', 'fqdn', 'numeric', 'user');
const actions = ['ignore', 'syslog', 'suspend', 'single', 'halt'];
/** A number of megabytes, or (auditd ≥ 2.8) a percentage like `25%`. */
const mbOrPercent: Check = (v) => /^\d+%?$/.test(v);
const portRange: Check = (v) => {
  const m = /^(\d+)(?:-(\d+))?$/.exec(v);
  if (!m) return false;
  const lo = Number(m[1]);
  const hi = Number(m[2] ?? m[1]);
  return lo >= 1 && hi <= 65535 && lo <= hi;
};

interface Rule {
  readonly check: Check;
  readonly says: string;
}
const r = (check: Check, says: string): Rule => ({ check, says });

/** audispd.conf (SPEC 2.8 dispatcher). */
export const DISPATCHER_SETTINGS: Record<string, Rule> = {
  q_depth: r(int(1, 99_999_999), 'must be a positive integer'),
  overflow_action: r(oneOf(...actions), `must be one of ${actions.join(', ')}`),
  priority_boost: r(int(0), 'must be a non-negative integer'),
  max_restarts: r(int(0), 'must be a non-negative integer'),
  name_format: r(nameFormat, 'must be one of none, hostname, fqdn, numeric, user'),
  name: r(anyText, 'must not be empty'),
};

/** plugins.d/*.conf (SPEC 2.8 plugin). */
export const PLUGIN_SETTINGS: Record<string, Rule> = {
  active: r(yesNo, 'must be yes or no'),
  direction: r(oneOf('in', 'out'), 'must be in or out'),
  path: r((v) => v.startsWith('/') || /^[a-z_]+$/.test(v), 'must be an absolute path (or a builtin plugin name)'),
  type: r(oneOf('builtin', 'always'), 'must be builtin or always'),
  args: r((v) => v.trim().split(/\s+/).length <= 2, 'must have at most 2 arguments'),
  format: r(oneOf('binary', 'string'), 'must be binary or string'),
};

/** auditd.conf (SPEC 2.8 auditd; q_depth too, where auditd ≥ 3 merged the dispatcher). */
export const AUDITD_SETTINGS: Record<string, Rule> = {
  log_file: r((v) => v.startsWith('/'), 'must be an absolute path'),
  log_format: r(oneOf('raw', 'nolog', 'enriched'), 'must be RAW, ENRICHED or NOLOG'),
  write_logs: r(yesNo, 'must be yes or no'),
  log_group: r(anyText, 'must name a group'),
  priority_boost: r(int(0), 'must be a non-negative integer'),
  flush: r(oneOf('none', 'incremental', 'incremental_async', 'data', 'sync'), 'must be one of none, incremental, data, sync'),
  freq: r(int(0), 'must be a non-negative integer'),
  num_logs: r(int(0, 99), 'must be an integer from 0 to 99'),
  disp_qos: r(oneOf('lossy', 'lossless'), 'must be lossy or lossless'),
  dispatcher: r((v) => v.startsWith('/'), 'must be an absolute path'),
  name_format: r(nameFormat, 'must be one of none, hostname, fqdn, numeric, user'),
  max_log_file: r(int(0), 'must be a number of megabytes'),
  max_log_file_action: r(oneOf('ignore', 'syslog', 'suspend', 'rotate', 'keep_logs'), 'must be one of ignore, syslog, suspend, rotate, keep_logs'),
  action_mail_acct: r(anyText, 'must not be empty'),
  space_left: r(mbOrPercent, 'must be megabytes or a percentage'),
  space_left_action: r(oneOf('ignore', 'syslog', 'rotate', 'email', 'exec', 'suspend', 'single', 'halt'), 'must be one of ignore, syslog, rotate, email, exec, suspend, single, halt'),
  admin_space_left: r(mbOrPercent, 'must be megabytes or a percentage'),
  admin_space_left_action: r(oneOf('ignore', 'syslog', 'rotate', 'email', 'exec', 'suspend', 'single', 'halt'), 'must be one of ignore, syslog, rotate, email, exec, suspend, single, halt'),
  disk_full_action: r(oneOf('ignore', 'syslog', 'rotate', 'exec', 'suspend', 'single', 'halt'), 'must be one of ignore, syslog, rotate, exec, suspend, single, halt'),
  disk_error_action: r(oneOf('ignore', 'syslog', 'exec', 'suspend', 'single', 'halt'), 'must be one of ignore, syslog, exec, suspend, single, halt'),
  tcp_listen_port: r(int(1, 65535), 'must be a port from 1 to 65535'),
  tcp_listen_queue: r(int(1), 'must be a positive integer'),
  tcp_max_per_addr: r(int(1, 16), 'must be an integer from 1 to 16'),
  use_libwrap: r(yesNo, 'must be yes or no'),
  tcp_client_ports: r(portRange, 'must be a port or a range like 1-1023'),
  tcp_client_max_idle: r(int(0), 'must be a non-negative number of seconds'),
  enable_krb5: r(yesNo, 'must be yes or no'),
  krb5_principal: r(anyText, 'must not be empty'),
  krb5_key_file: r((v) => v.startsWith('/'), 'must be an absolute path'),
  q_depth: DISPATCHER_SETTINGS.q_depth,
  overflow_action: DISPATCHER_SETTINGS.overflow_action,
  max_restarts: DISPATCHER_SETTINGS.max_restarts,
};

/** Problems with known keys, as `file: key "k" must … (got "v")`; unknown keys are left alone. */
export function validateSettings(file: string, entries: Array<[string, string]>, rules: Record<string, Rule>): string[] {
  const problems: string[] = [];
  for (const [key, value] of entries) {
    const rule = rules[key];
    if (rule && !rule.check(value)) problems.push(`${file}: key "${key}" ${rule.says} (got ${JSON.stringify(value)})`);
  }
  return problems;
}
