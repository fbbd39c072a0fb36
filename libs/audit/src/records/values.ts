// Decoding of audit field values: quoted text, hex-encoded text, proctitle, numbers.

const HEX_VALUE = new Int8Array(128).fill(-1);
for (let c = 0; c < 10; c++) HEX_VALUE[48 + c] = c;
for (let c = 0; c < 6; c++) {
  HEX_VALUE[65 + c] = 10 + c;
  HEX_VALUE[97 + c] = 10 + c;
}

/** True when `s` is a non-empty, even-length run of hex digits (how auditd encodes untrusted strings). */
export function isHexEncoded(s: string): boolean {
  const n = s.length;
  if (n === 0 || (n & 1) === 1) return false;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || HEX_VALUE[c] < 0) return false;
  }
  return true;
}

/** Decodes hex text to a UTF-8 string (invalid sequences become U+FFFD). Caller checks {@link isHexEncoded}. */
export function hexToString(hex: string): string {
  return Buffer.from(hex, 'hex').toString('utf8');
}

/**
 * The text an "untrusted string" field stands for, the way auparse interprets it: a quoted value
 * loses its quotes, an unquoted hex value is decoded, anything else (`(null)`, `?`, numbers) is
 * returned as written.
 */
export function decodeFieldValue(raw: string): string {
  if (raw.charCodeAt(0) === 34 /* " */) {
    return raw.length > 1 && raw.charCodeAt(raw.length - 1) === 34 ? raw.slice(1, -1) : raw.slice(1);
  }
  return isHexEncoded(raw) ? hexToString(raw) : raw;
}

/** PROCTITLE text: the hex-decoded argv with NUL separators shown as spaces (as ausearch prints it). */
export function decodeProctitle(raw: string): string {
  const text = decodeFieldValue(raw);
  let end = text.length;
  while (end > 0 && text.charCodeAt(end - 1) === 0) end--;
  return text.slice(0, end).replaceAll('\0', ' ');
}

/** Decimal integer field, or undefined when absent or not a number (e.g. already interpreted `vagrant`). */
export function toInt(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const len = raw.length;
  if (len === 0 || len > 15) return len > 15 && Number.isSafeInteger(Number(raw)) ? Number(raw) : undefined;
  let i = 0;
  let sign = 1;
  if (raw.charCodeAt(0) === 45 /* - */) {
    if (len === 1) return undefined;
    sign = -1;
    i = 1;
  }
  let n = 0;
  for (; i < len; i++) {
    const d = raw.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return undefined;
    n = n * 10 + d;
  }
  return sign * n;
}
