// Conversions between dc.settings.v1 / dc.common.v1 messages and the domain's values (enums, times, pages).
import { commonV1, type Duration } from '@dc/proto';
import { InvalidArgument } from '../errors';

/** Proto enum value → domain name: `PERMISSION_SETTINGS_READ` with prefix `PERMISSION_` → `SETTINGS_READ`. */
export function fromEnum(enumObject: Record<string | number, string | number>, prefix: string, value: number): string {
  const name = enumObject[value];
  return typeof name === 'string' && name.startsWith(prefix) ? name.slice(prefix.length) : 'UNSPECIFIED';
}

/** Domain name → proto enum value (UNSPECIFIED, 0, when unknown). */
export function toEnum<E extends number>(enumObject: Record<string, string | number>, prefix: string, name: string): E {
  const value = enumObject[`${prefix}${name}`];
  return (typeof value === 'number' ? value : 0) as E;
}

export const component = {
  toDomain: (c: commonV1.Component) => fromEnum(commonV1.Component, 'COMPONENT_', c).toLowerCase().replace(/_/g, '-'),
  toProto: (service: string) => toEnum<commonV1.Component>(commonV1.Component, 'COMPONENT_', service.toUpperCase().replace(/-/g, '_')),
};

export const logLevel = {
  toDomain: (l: commonV1.LogLevel) => fromEnum(commonV1.LogLevel, 'LOG_LEVEL_', l).toLowerCase(),
  toProto: (l: string) => toEnum<commonV1.LogLevel>(commonV1.LogLevel, 'LOG_LEVEL_', l.toUpperCase()),
};

export const os = {
  toDomain: (o: commonV1.OperatingSystem) => fromEnum(commonV1.OperatingSystem, 'OPERATING_SYSTEM_', o),
  toProto: (o: string) => toEnum<commonV1.OperatingSystem>(commonV1.OperatingSystem, 'OPERATING_SYSTEM_', o),
};

export function time(iso: string | Date | undefined): Date | undefined {
  if (!iso) return undefined;
  return iso instanceof Date ? iso : new Date(iso);
}

/** Duration → whole seconds; undefined when unset. */
export function seconds(field: string, d: Duration | undefined): number | undefined {
  if (!d) return undefined;
  if (d.nanos !== 0) throw new InvalidArgument(field, 'must be a whole number of seconds', `${d.seconds}s ${d.nanos}ns`);
  return d.seconds;
}

const DEFAULT_PAGE = 100;
const MAX_PAGE = 1000;

/** One page of `items`; the token is the offset of the next page, opaque to callers. */
export function paginate<T>(items: T[], pageSize: number, pageToken: string): { page: T[]; nextPageToken: string } {
  if (pageSize < 0) throw new InvalidArgument('page_size', 'must be 0 (default 100) or more', pageSize);
  const size = Math.min(pageSize || DEFAULT_PAGE, MAX_PAGE);
  let offset = 0;
  if (pageToken) {
    const m = /^o(\d+)$/.exec(Buffer.from(pageToken, 'base64url').toString());
    if (!m) throw new InvalidArgument('page_token', 'is not a token this list returned', pageToken);
    offset = Number(m[1]);
  }
  const page = items.slice(offset, offset + size);
  const next = offset + size < items.length ? Buffer.from(`o${offset + size}`).toString('base64url') : '';
  return { page, nextPageToken: next };
}
