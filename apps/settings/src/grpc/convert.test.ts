// Enum, time and page conversions at the dc.settings.v1 boundary.
import { commonV1 } from '@dc/proto';
import { describe, expect, it } from 'vitest';
import { component, fromEnum, logLevel, paginate, toEnum } from './convert';

describe('conversions at the gRPC boundary', () => {
  it('maps proto enums to domain names and back', () => {
    expect(fromEnum(commonV1.Permission, 'PERMISSION_', commonV1.Permission.PERMISSION_CRON_EXEC)).toBe('CRON_EXEC');
    expect(toEnum(commonV1.Role, 'ROLE_', 'READ_ONLY_USER')).toBe(commonV1.Role.ROLE_READ_ONLY_USER);
    expect(fromEnum(commonV1.Role, 'ROLE_', 99)).toBe('UNSPECIFIED');
    expect(component.toDomain(commonV1.Component.COMPONENT_MODULE_SERVER)).toBe('module-server');
    expect(component.toProto('endpoint-recorder')).toBe(commonV1.Component.COMPONENT_ENDPOINT_RECORDER);
    expect(logLevel.toDomain(commonV1.LogLevel.LOG_LEVEL_WARN)).toBe('warn');
  });

  it('pages through a list with opaque tokens and refuses a forged one', () => {
    const items = Array.from({ length: 250 }, (_, i) => i);
    const first = paginate(items, 0, '');
    expect(first.page).toHaveLength(100);
    const second = paginate(items, 100, first.nextPageToken);
    expect(second.page[0]).toBe(100);
    const last = paginate(items, 100, second.nextPageToken);
    expect(last.page).toEqual(items.slice(200));
    expect(last.nextPageToken).toBe('');
    expect(paginate(items, 5000, '').page).toHaveLength(250); // at most 1000 per page
    expect(() => paginate(items, 10, 'not-a-token')).toThrow('page_token "not-a-token": is not a token this list returned');
    expect(() => paginate(items, -1, '')).toThrow('page_size -1');
  });
});
