// The output layer: aligned tables, JSON only with --json, durations and relative times.
import { PassThrough, Readable } from 'node:stream';
import { moduleServerV1 } from '@dc/proto';
import { describe, expect, it } from 'vitest';
import { ago, enumLabel, expiry, humanDuration, Output } from './output';

function capture(json = false) {
  const stdout = new PassThrough();
  const chunks: Buffer[] = [];
  stdout.on('data', (b: Buffer) => chunks.push(b));
  const out = new Output({ stdout, stderr: new PassThrough(), stdin: Readable.from([]), env: {} }, json);
  return { out, text: () => Buffer.concat(chunks).toString('utf8') };
}

describe('output', () => {
  it('aligns table columns to the widest cell', () => {
    const { out, text } = capture();
    out.table(['NAME', 'STATUS', 'NOTE'], [['web-01', 'online', 'x'], ['database-server', 'offline', '']]);
    expect(text()).toBe('NAME             STATUS   NOTE\nweb-01           online   x\ndatabase-server  offline\n');
  });

  it('prints the empty text for an empty table, and only JSON with --json', () => {
    const a = capture();
    a.out.table(['A'], [], 'nothing here');
    expect(a.text()).toBe('nothing here\n');
    const b = capture(true);
    b.out.result({ a: 1 }, () => b.out.line('human'));
    expect(JSON.parse(b.text())).toEqual({ a: 1 });
  });

  it.each([
    [850, '850ms'],
    [59_000, '59s'],
    [61_000, '1m 1s'],
    [3_600_000, '1h'],
    [90_061_000, '1d 1h'],
  ])('writes %d ms as %s', (ms, text) => {
    expect(humanDuration(ms)).toBe(text);
  });

  it('labels enum values without their prefix and shows UNSPECIFIED as "-"', () => {
    expect(enumLabel(moduleServerV1.EndpointStatus, 'ENDPOINT_STATUS_', moduleServerV1.EndpointStatus.ENDPOINT_STATUS_NEVER_CONNECTED)).toBe('never-connected');
    expect(enumLabel(moduleServerV1.EndpointStatus, 'ENDPOINT_STATUS_', 0)).toBe('-');
  });

  it('shows time relative to an injected now', () => {
    const now = new Date('2026-11-23T12:00:00Z');
    expect(ago(new Date('2026-11-23T11:55:00Z'), now)).toBe('5m ago');
    expect(expiry(new Date('2026-11-20T12:00:00Z'), now)).toBe('2026-11-20T12:00:00Z (expired 3d ago)');
    expect(expiry(new Date('2027-11-23T12:00:00Z'), now)).toBe('2027-11-23T12:00:00Z (in 365d)');
  });
});
