// Command-line values turned into contract values, with usage errors naming the option, the rule and the value.
import { isIP } from 'node:net';
import { type moduleServerV1 } from '@dc/proto';
import { usageError } from './client/cli-error';
import { enumWords } from './output/output';

const UNITS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400 };

/** "90s", "5m", "1h30m", "7d" -> seconds. */
export function parseDurationSeconds(option: string, value: string): number {
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/gy;
  let total = 0;
  let matched = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(value)) !== null) {
    total += Number(m[1]) * UNITS[m[2]!]!;
    matched = re.lastIndex;
  }
  if (value.length === 0 || matched !== value.length) {
    throw usageError(`${option} "${value}": must be a duration such as 30s, 5m, 1h30m or 7d`);
  }
  return total;
}

/** A proto Duration from a duration text. */
export function parseDuration(option: string, value: string): { seconds: number; nanos: number } {
  const s = parseDurationSeconds(option, value);
  const seconds = Math.floor(s);
  return { seconds, nanos: Math.round((s - seconds) * 1e9) };
}

export function parseIntIn(option: string, value: string, min: number, max: number): number {
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    throw usageError(`${option} "${value}": must be a whole number from ${min} to ${max}`);
  }
  return Number(value);
}

/** A word ("online", "allow-new-connections") -> the enum value with that suffix. */
export function parseEnum<E extends Record<string, string | number>>(enumObject: E, prefix: string, option: string, value: string): E[keyof E] {
  const key = prefix + value.trim().toUpperCase().replace(/-/g, '_');
  const v = enumObject[key as keyof E];
  if (typeof v !== 'number' || key.endsWith('_UNSPECIFIED')) {
    throw usageError(`${option} "${value}": must be one of ${enumWords(enumObject, prefix).join(', ')}`);
  }
  return v;
}

/** A comma-separated list of enum words. */
export function parseEnumList<E extends Record<string, string | number>>(enumObject: E, prefix: string, option: string, value: string): Array<E[keyof E]> {
  return value
    .split(',')
    .map((w) => w.trim())
    .filter((w) => w.length > 0)
    .map((w) => parseEnum(enumObject, prefix, option, w));
}

export const TARGET_HELP = 'endpoint: its client id as id:<client id>, an IP address, or its computer name';

/** "id:<client id>" | IP address | computer name -> EndpointTarget (SPEC 1.6). */
export function parseTarget(value: string): moduleServerV1.EndpointTarget {
  const v = value.trim();
  if (v.length === 0) throw usageError('endpoint target is empty', TARGET_HELP);
  if (v.startsWith('id:')) {
    const id = v.slice(3);
    if (!id) throw usageError(`endpoint target "${value}": a client id must follow "id:"`);
    return { target: { $case: 'clientId', value: id } };
  }
  if (isIP(v)) return { target: { $case: 'ipAddress', value: v } };
  return { target: { $case: 'computerName', value: v } };
}
