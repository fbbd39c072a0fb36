// How dcctl prints: aligned tables and key/value blocks for people, raw responses with --json,
// errors and progress on stderr.
import { type Writable } from 'node:stream';

export interface Io {
  readonly stdout: Writable & { isTTY?: boolean; columns?: number };
  readonly stderr: Writable & { isTTY?: boolean; columns?: number };
  readonly stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  readonly env: Record<string, string | undefined>;
}

export class Output {
  constructor(
    private readonly io: Io,
    /** --json: print responses as JSON (proto3 JSON names and enum names), nothing else on stdout. */
    readonly json: boolean,
  ) {}

  /** The response: `value` as JSON with --json, else whatever `human` prints. */
  result(value: unknown, human: () => void): void {
    if (this.json) this.io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
    else human();
  }

  /** One JSON value per line (for follow commands with --json). */
  jsonLine(value: unknown): void {
    this.io.stdout.write(`${JSON.stringify(value)}\n`);
  }

  line(text = ''): void {
    this.io.stdout.write(`${text}\n`);
  }

  /** A table with aligned columns; an empty table prints `empty` instead. */
  table(headers: readonly string[], rows: ReadonlyArray<ReadonlyArray<string>>, empty = '(none)'): void {
    if (rows.length === 0) {
      this.line(empty);
      return;
    }
    const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
    const fmt = (cells: ReadonlyArray<string>) =>
      cells
        .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
        .join('  ')
        .trimEnd();
    this.line(fmt(headers));
    for (const row of rows) this.line(fmt(row));
  }

  /** Key/value lines with aligned values. */
  fields(pairs: ReadonlyArray<readonly [string, string]>): void {
    const width = Math.max(0, ...pairs.map(([k]) => k.length));
    for (const [k, v] of pairs) this.line(`${`${k}:`.padEnd(width + 1)} ${v}`);
  }

  /** A note for people on stderr (never mixes with --json on stdout). */
  note(text: string): void {
    this.io.stderr.write(`${text}\n`);
  }

  get stderr(): Io['stderr'] {
    return this.io.stderr;
  }
}

// ---- value formatting ------------------------------------------------------------------

/** An enum value as a lowercase word without its prefix: ENDPOINT_STATUS_ONLINE -> "online". */
export function enumLabel(enumObject: Record<string, string | number>, prefix: string, value: number | undefined): string {
  if (value === undefined) return '-';
  const name = enumObject[value];
  if (typeof name !== 'string') return String(value);
  if (name.endsWith('_UNSPECIFIED')) return '-';
  return name.startsWith(prefix) ? name.slice(prefix.length).toLowerCase().replace(/_/g, '-') : name.toLowerCase();
}

/** The accepted words of an enum (for help texts and errors). */
export function enumWords(enumObject: Record<string, string | number>, prefix: string): string[] {
  return Object.keys(enumObject)
    .filter((k) => k.startsWith(prefix) && !k.endsWith('_UNSPECIFIED'))
    .map((k) => k.slice(prefix.length).toLowerCase().replace(/_/g, '-'));
}

/** ISO time without milliseconds, or "-". */
export function time(value: Date | undefined): string {
  if (!value || Number.isNaN(value.getTime())) return '-';
  return value.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** "3d 4h", "5m 2s", "850ms". */
export function humanDuration(ms: number): string {
  if (!Number.isFinite(ms)) return '-';
  const sign = ms < 0 ? '-' : '';
  let rest = Math.abs(ms);
  if (rest < 1000) return `${sign}${Math.round(rest)}ms`;
  rest = Math.round(rest / 1000);
  const d = Math.floor(rest / 86400);
  const h = Math.floor((rest % 86400) / 3600);
  const m = Math.floor((rest % 3600) / 60);
  const s = rest % 60;
  const parts = d ? [`${d}d`, `${h}h`] : h ? [`${h}h`, `${m}m`] : m ? [`${m}m`, `${s}s`] : [`${s}s`];
  return sign + parts.filter((p, i) => i === 0 || !/^0[a-z]/.test(p)).join(' ');
}

/** A proto Duration as text. */
export function protoDuration(d: { seconds: number; nanos: number } | undefined): string {
  if (!d) return '-';
  return humanDuration(d.seconds * 1000 + d.nanos / 1e6);
}

/** "5m ago" (or "in 3d" for the future) relative to now. */
export function ago(value: Date | undefined, now: Date): string {
  if (!value) return '-';
  const ms = now.getTime() - value.getTime();
  return ms >= 0 ? `${humanDuration(ms)} ago` : `in ${humanDuration(-ms)}`;
}

/** Expiry with the time left: "2027-12-01T00:00:00Z (in 373d 0h)" or "(expired 2d 1h ago)". */
export function expiry(notAfter: Date | undefined, now: Date): string {
  if (!notAfter) return '-';
  const ms = notAfter.getTime() - now.getTime();
  return `${time(notAfter)} (${ms >= 0 ? `in ${humanDuration(ms)}` : `expired ${humanDuration(-ms)} ago`})`;
}

export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = -1;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(1)} ${units[u]}`;
}
