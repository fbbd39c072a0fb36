// The support package (SPEC 1.7.1): the state of the service in a ZIP — recent events and log
// lines, settings with secrets redacted, endpoint and session summaries, certificate expiries,
// zone proxy status, versions. Never a key or a token.
import { createHash, X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ZipFile } from 'yazl';
import type { EventLog } from '../events/event-log';
import type { EndpointRegistry } from '../registry/endpoint-registry';
import type { SessionStore } from '../sessions/session-store';

export interface SupportPackageInput {
  readonly registry: EndpointRegistry;
  readonly events: EventLog;
  readonly sessionStore: SessionStore;
  readonly dataDir: string;
  readonly version: string;
  readonly now: number;
  readonly logWindowMs: number;
  /** The effective configuration (secrets are redacted here, whatever the caller passes). */
  readonly config?: unknown;
  /** Recent log lines kept in memory (service-kit's log ring: already redacted by pino), oldest first. */
  readonly recentLogLines?: () => readonly string[];
}

const SECRET_KEY = /token|secret|password|passphrase|private|key$|keyPem|authorization/i;

/** Replaces every value under a secret-looking key; file paths of keys are kept (they are not secrets). */
export function redact(value: unknown, key = ''): unknown {
  if (SECRET_KEY.test(key) && !/file$/i.test(key)) return value === '' || value === undefined ? value : '[redacted]';
  if (Array.isArray(value)) return value.map((v) => redact(v));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = k === 'devTokens' ? Object.fromEntries(Object.entries(v as object).map(([, role], i) => [`token-${i + 1}`, role])) : redact(v, k);
    return out;
  }
  return value;
}

/** Drops PEM private keys and bearer tokens from free text (log lines). */
export function scrubText(line: string): string {
  return line
    .replace(/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g, '[private key removed]')
    .replace(/Bearer\s+[A-Za-z0-9._~+/=-]+/gi, 'Bearer [redacted]');
}

/** The recent log lines in the package, JSONL; read from memory, never from a log file on disk. */
export const LOG_FILE = 'logs/module-server.log';

/** The lines within the log window (a line without a readable time is kept), scrubbed of free-text secrets. */
function recentLogText(lines: readonly string[], since: number): string {
  const kept = lines.filter((line) => {
    const time = /"time":"([^"]+)"/.exec(line)?.[1];
    const at = time === undefined ? Number.NaN : Date.parse(time);
    return Number.isNaN(at) || at >= since;
  });
  return kept.length === 0 ? '' : `${kept.map(scrubText).join('\n')}\n`;
}

function certificateExpiry(file: string): { file: string; subject: string; notAfter: string } | undefined {
  if (!existsSync(file)) return undefined;
  const x = new X509Certificate(readFileSync(file));
  return { file, subject: x.subject, notAfter: new Date(x.validTo).toISOString() };
}

export async function buildSupportPackage(input: SupportPackageInput): Promise<{ fileName: string; zip: Buffer }> {
  const zip = new ZipFile();
  const add = (name: string, value: unknown) => zip.addBuffer(Buffer.from(typeof value === 'string' ? value : `${JSON.stringify(value, null, 2)}\n`), name, { mtime: new Date(input.now) });
  const since = input.now - input.logWindowMs;
  const endpoints = input.registry.list();
  add('info.json', { service: 'module-server', version: input.version, node: process.version, platform: `${process.platform}-${process.arch}`, generatedAt: new Date(input.now).toISOString(), pid: process.pid, uptimeSeconds: Math.round(process.uptime()) });
  add('settings.json', redact(input.config ?? {}));
  add('endpoints.json', endpoints.map((e) => ({
    clientId: e.clientId, hostName: e.hostname, ips: e.ips, os: e.os, status: e.status, statusSince: new Date(e.statusSince).toISOString(), route: e.route,
    enrolment: e.enrolment, lastHeartbeat: e.lastHeartbeatAt ? new Date(e.lastHeartbeatAt).toISOString() : null, certificateSerial: e.certSerial,
    certificateNotAfter: e.certNotAfter ? new Date(e.certNotAfter).toISOString() : null, lastDisconnect: e.lastDisconnectReason ? { reason: e.lastDisconnectReason, detail: e.lastDisconnectDetail, at: e.lastDisconnectAt } : null,
    lastTlsFailure: e.lastTlsFailureCause ? { cause: e.lastTlsFailureCause, detail: e.lastTlsFailureDetail, at: e.lastTlsFailureAt } : null, clockSkewMs: e.clockSkewMs, actionLock: e.actionLock, recorderStatus: e.recorderStatus,
  })));
  add('sessions.json', input.sessionStore.list({ pageSize: 1000 }).sessions);
  add('events.json', input.events.list({ limit: 1_000_000 }).filter((e) => e.at >= since));
  add('alerts.json', input.events.alerts({ limit: 10_000 }));
  add('certificates.json', {
    gateway: certificateExpiry(join(input.dataDir, 'tls', 'gateway.cert.pem')) ?? 'configured from files (see settings.json)',
    endpointsExpiringWithin30Days: endpoints.filter((e) => e.certNotAfter !== null && e.certNotAfter - input.now < 30 * 86_400_000).map((e) => ({ clientId: e.clientId, notAfter: new Date(e.certNotAfter!).toISOString() })),
  });
  add('zone-proxies.json', { note: 'zone proxy links are reported by the zone-links component', proxies: [] });
  add(LOG_FILE, recentLogText(input.recentLogLines?.() ?? [], since));
  zip.end();
  const chunks: Buffer[] = [];
  await new Promise<void>((resolve, reject) => {
    zip.outputStream.on('data', (c: Buffer) => chunks.push(c));
    zip.outputStream.on('end', resolve);
    zip.outputStream.on('error', reject);
  });
  const stamp = new Date(input.now).toISOString().replace(/[:.]/g, '-');
  return { fileName: `module-server-support-${stamp}.zip`, zip: Buffer.concat(chunks) };
}

export const CHUNK_BYTES = 64 * 1024;

export function sha256(buf: Buffer): string {
  return createHash('sha256').update(buf).digest('hex');
}
