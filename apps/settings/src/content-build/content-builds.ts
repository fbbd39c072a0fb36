// The content build (SPEC 1.4.4): after a save, one endpoint package per OS, versioned, with its build status.
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { Clock } from '../clock';
import type { ConnectionSettings } from '../connection-settings/connection-settings';
import type { OperatingSystem } from '../computer-groups/rules';
import { notFound } from '../errors';
import type { HeartbeatPolicy } from '../heartbeat-policy/heartbeat-policy';
import type { MergedRecorderConfig, RecorderFile } from '../recorder-config/recorder-config';
import type { Actor, SettingsStore } from '../store/settings-store';
import type { TrustSource } from './trust-source';

export const PACKAGE_OPERATING_SYSTEMS: readonly OperatingSystem[] = ['WINDOWS', 'LINUX', 'MACOS']; // SPEC 1.4.4
export const PACKAGE_FORMAT = 'dc-endpoint-package/1';

export type ContentBuildStatus = 'IN_PROGRESS' | 'SUCCEEDED' | 'FAILED';

/** What an endpoint needs to connect and record, for one OS. */
export interface EndpointPackage {
  format: typeof PACKAGE_FORMAT;
  os: OperatingSystem;
  version: number;
  builtAt: string;
  /** host:17475 */
  brokerAddress: string;
  actionLock: string;
  caTrustBundle: string;
  enrolmentToken: string;
  enrolmentTokenExpiresAt: string;
  zoneRoutes: ZoneRoute[];
  heartbeatPolicy: HeartbeatPolicy;
  recorder: { files: Record<string, string>; merged: MergedRecorderConfig };
  /** SHA-256 (hex) of the package without this field, in canonical JSON. */
  sha256: string;
}

export interface ZoneRoute {
  zoneProxy: string;
  endpointTargetHostname: string;
  endpointInboundPort: number;
  certificateFingerprintSha256: string;
}

export interface ContentBuildRecord {
  version: number;
  status: ContentBuildStatus;
  startedAt: string;
  finishedAt: string;
  startedBy: string;
  error: string;
  /** Present once the build succeeded; holds secrets (enrolment tokens), redacted in audit and watch. */
  packages: EndpointPackage[];
}

/** The current configuration a build packages. */
export interface BuildInputs {
  connection(): ConnectionSettings | undefined;
  zoneRoutes(): ZoneRoute[];
  heartbeatPolicy(): HeartbeatPolicy;
  recorderFiles(): RecorderFile[];
  mergedRecorder(os: OperatingSystem): MergedRecorderConfig;
}

export const CONTENT_BUILD_KIND = 'content_build';
const SEQUENCE = 'content_build_sequence';
const SYSTEM = 'system:content-build';

export interface ContentBuildsOptions {
  store: SettingsStore;
  trust: TrustSource;
  inputs: BuildInputs;
  clock: Clock;
  log: Logger;
  /** Lifetime of the enrolment token in each package. */
  enrolmentTokenTtlSeconds: number;
}

export class ContentBuilds {
  private readonly running = new Map<number, Promise<ContentBuildRecord>>();

  constructor(private readonly opts: ContentBuildsOptions) {}

  /** Records a new IN_PROGRESS build and runs it in the background; returns the record at once. */
  start(actor: Actor): ContentBuildRecord {
    const { store, clock } = this.opts;
    const record = store.transaction(() => {
      const version = Number(store.getMeta(SEQUENCE) ?? '0') + 1;
      store.setMeta(SEQUENCE, String(version));
      const r: ContentBuildRecord = {
        version,
        status: 'IN_PROGRESS',
        startedAt: clock.now().toISOString(),
        finishedAt: '',
        startedBy: typeof actor === 'string' ? actor : actor.name,
        error: '',
        packages: [],
      };
      store.put(actor, CONTENT_BUILD_KIND, keyOf(version), r);
      return r;
    });
    const run = this.run(record).finally(() => this.running.delete(record.version));
    this.running.set(record.version, run);
    return record;
  }

  /** Resolves when the build has finished (at once if it already has). */
  async settled(version: number): Promise<ContentBuildRecord> {
    return (await this.running.get(version)) ?? this.get(version);
  }

  get(version: number): ContentBuildRecord {
    const doc = this.opts.store.get<ContentBuildRecord>(CONTENT_BUILD_KIND, keyOf(version));
    if (!doc) throw notFound('content build', String(version));
    return doc.value;
  }

  /** Builds, newest first. */
  list(limit = 20): ContentBuildRecord[] {
    return this.opts.store
      .list<ContentBuildRecord>(CONTENT_BUILD_KIND)
      .map((d) => d.value)
      .sort((a, b) => b.version - a.version)
      .slice(0, limit);
  }

  /** The newest successful build: what endpoints in the action group should run. */
  latestSucceeded(): ContentBuildRecord | undefined {
    return this.list(Number.MAX_SAFE_INTEGER).find((b) => b.status === 'SUCCEEDED');
  }

  /** A build left IN_PROGRESS by a stopped process is marked FAILED and started again. */
  recoverInterrupted(): void {
    for (const b of this.list(Number.MAX_SAFE_INTEGER)) {
      if (b.status !== 'IN_PROGRESS' || this.running.has(b.version)) continue;
      this.finish(b, { status: 'FAILED', error: 'interrupted by a restart of the settings service; a new build was started' });
      this.start(SYSTEM);
    }
  }

  /** Waits for every running build (used at shutdown). */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.running.values()]);
  }

  private async run(record: ContentBuildRecord): Promise<ContentBuildRecord> {
    const { inputs, trust, log } = this.opts;
    try {
      const connection = inputs.connection();
      if (!connection) throw new Error('the endpoint connection settings have not been saved');
      const caTrustBundle = await trust.trustBundle();
      const builtAt = this.opts.clock.now().toISOString();
      const files = Object.fromEntries(inputs.recorderFiles().map((f) => [f.fileName, f.content]));
      const packages: EndpointPackage[] = [];
      for (const os of PACKAGE_OPERATING_SYSTEMS) {
        const enrolment = await trust.createEnrolmentToken({
          description: `content build ${record.version} (${os})`,
          ttlSeconds: this.opts.enrolmentTokenTtlSeconds,
        });
        const pkg: Omit<EndpointPackage, 'sha256'> = {
          format: PACKAGE_FORMAT,
          os,
          version: record.version,
          builtAt,
          brokerAddress: `${connection.fqdn.includes(':') ? `[${connection.fqdn}]` : connection.fqdn}:${connection.port}`,
          actionLock: connection.actionLock,
          caTrustBundle,
          enrolmentToken: enrolment.token,
          enrolmentTokenExpiresAt: enrolment.expiresAt.toISOString(),
          zoneRoutes: inputs.zoneRoutes(),
          heartbeatPolicy: inputs.heartbeatPolicy(),
          recorder: { files, merged: inputs.mergedRecorder(os) },
        };
        packages.push({ ...pkg, sha256: createHash('sha256').update(canonicalJson(pkg)).digest('hex') });
      }
      log.info({ version: record.version }, 'content build succeeded');
      return this.finish(record, { status: 'SUCCEEDED', packages });
    } catch (err) {
      const message = (err as Error).message;
      log.error({ version: record.version, err: message }, 'content build failed');
      return this.finish(record, { status: 'FAILED', error: message });
    }
  }

  private finish(record: ContentBuildRecord, outcome: Partial<ContentBuildRecord>): ContentBuildRecord {
    const next: ContentBuildRecord = { ...record, ...outcome, finishedAt: this.opts.clock.now().toISOString() };
    try {
      this.opts.store.put(SYSTEM, CONTENT_BUILD_KIND, keyOf(record.version), next);
    } catch (err) {
      // The store is closed (shutdown); recoverInterrupted() repairs the record at next start.
      this.opts.log.warn({ version: record.version, err: (err as Error).message }, 'content build result not saved');
    }
    return next;
  }
}

/** Zero-padded so the store's key order is the build order. */
function keyOf(version: number): string {
  return String(version).padStart(10, '0');
}

/** JSON with object keys sorted, so the digest does not depend on property order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
