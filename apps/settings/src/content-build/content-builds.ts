// The content build (SPEC 1.4.4): after a save, one endpoint package per OS, versioned, with its build state.
import { createHash } from 'node:crypto';
import { commonV1 } from '@dc/proto';
import type { Logger } from 'pino';
import type { Clock } from '../clock';
import type { OperatingSystem } from '../computer-groups/rules';
import type { ActionLockMode, ConnectionSettings } from '../connection-settings/connection-settings';
import { FailedPrecondition, notFound } from '../errors';
import type { HeartbeatPolicy } from '../heartbeat-policy/heartbeat-policy';
import type { LogLevel } from '../log-levels/log-levels';
import type { RecorderFile } from '../recorder-config/recorder-config';
import type { Actor, SettingsStore } from '../store/settings-store';
import { packageZip } from './package-file';
import type { TrustSource } from './trust-source';

export const PACKAGE_OPERATING_SYSTEMS: readonly OperatingSystem[] = ['WINDOWS', 'LINUX', 'MACOS']; // SPEC 1.4.4

export type ContentBuildState = 'QUEUED' | 'BUILDING' | 'SUCCEEDED' | 'FAILED';

export interface PackageSummary {
  os: OperatingSystem;
  fileName: string;
  sizeBytes: number;
  sha256: string;
}

/** A build as listed and watched: no secrets (the packages, with the enrolment token, are kept apart). */
export interface ContentBuildRecord {
  buildId: string;
  /** The EndpointConfiguration.revision its packages carry. */
  revision: number;
  state: ContentBuildState;
  startedAt: string;
  finishedAt: string;
  startedBy: string;
  reason: string;
  error: string;
  enrolmentTokenId: string;
  packages: PackageSummary[];
}

export interface EndpointPackage {
  summary: PackageSummary;
  buildId: string;
  content: Buffer;
  configuration: commonV1.EndpointConfiguration;
}

export interface ZoneRoute {
  zoneProxyId: string;
  zoneProxyName: string;
  host: string;
  port: number;
}

/** The current configuration a build packages. */
export interface BuildInputs {
  connection(): ConnectionSettings | undefined;
  zoneRoutes(): ZoneRoute[];
  heartbeatPolicy(): HeartbeatPolicy;
  recorderFiles(): RecorderFile[];
  endpointLogLevel(): LogLevel;
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
  /** Lifetime of the enrolment token in each build's packages. */
  enrolmentTokenTtlSeconds: number;
}

interface PackageRow {
  build_id: string;
  os: string;
  file_name: string;
  sha256: string;
  configuration: string;
  content: Buffer;
}

export class ContentBuilds {
  private readonly running = new Map<string, Promise<ContentBuildRecord>>();
  private readonly stmt;

  constructor(private readonly opts: ContentBuildsOptions) {
    const db = opts.store.db;
    this.stmt = {
      insert: db.prepare(
        `INSERT INTO content_packages (build_id, os, file_name, sha256, configuration, content)
         VALUES (@buildId, @os, @fileName, @sha256, @configuration, @content)`,
      ),
      get: db.prepare<[string, string], PackageRow>('SELECT * FROM content_packages WHERE build_id = ? AND os = ?'),
    };
  }

  /** Records a new QUEUED build and runs it in the background; returns the record at once. */
  start(actor: Actor, reason: string): ContentBuildRecord {
    const { store, clock } = this.opts;
    const record = store.transaction(() => {
      const revision = Number(store.getMeta(SEQUENCE) ?? '0') + 1;
      store.setMeta(SEQUENCE, String(revision));
      const r: ContentBuildRecord = {
        buildId: buildIdOf(revision),
        revision,
        state: 'QUEUED',
        startedAt: clock.now().toISOString(),
        finishedAt: '',
        startedBy: typeof actor === 'string' ? actor : actor.name,
        reason,
        error: '',
        enrolmentTokenId: '',
        packages: [],
      };
      store.put(actor, CONTENT_BUILD_KIND, r.buildId, r);
      return r;
    });
    const run = this.run(record).finally(() => this.running.delete(record.buildId));
    this.running.set(record.buildId, run);
    return record;
  }

  /** Resolves when the build has finished (at once if it already has). */
  async settled(buildId: string): Promise<ContentBuildRecord> {
    return (await this.running.get(buildId)) ?? this.get(buildId);
  }

  get(buildId: string): ContentBuildRecord {
    const doc = this.opts.store.get<ContentBuildRecord>(CONTENT_BUILD_KIND, buildId);
    if (!doc) throw notFound('content build', buildId);
    return doc.value;
  }

  /** Builds, newest first. */
  list(): ContentBuildRecord[] {
    return this.opts.store
      .list<ContentBuildRecord>(CONTENT_BUILD_KIND)
      .map((d) => d.value)
      .sort((a, b) => b.revision - a.revision);
  }

  latest(): ContentBuildRecord | undefined {
    return this.list()[0];
  }

  /** The newest successful build: what endpoints in the action group should run. */
  latestSucceeded(): ContentBuildRecord | undefined {
    return this.list().find((b) => b.state === 'SUCCEEDED');
  }

  /** One OS's package of a build (default: the latest successful one). Holds the enrolment token. */
  endpointPackage(os: OperatingSystem, buildId?: string): EndpointPackage {
    const build = buildId ? this.get(buildId) : this.latestSucceeded();
    if (!build) throw new FailedPrecondition('no content build has succeeded yet; save the endpoint connection settings first');
    if (build.state !== 'SUCCEEDED') {
      throw new FailedPrecondition(`content build ${build.buildId} is ${build.state}${build.error ? ` (${build.error})` : ''}; it has no packages`);
    }
    const row = this.stmt.get.get(build.buildId, os);
    if (!row) throw notFound('endpoint package', `${build.buildId}/${os}`);
    return {
      buildId: build.buildId,
      summary: { os, fileName: row.file_name, sizeBytes: row.content.length, sha256: row.sha256 },
      content: row.content,
      configuration: commonV1.EndpointConfiguration.fromJSON(JSON.parse(row.configuration)),
    };
  }

  /** A build left QUEUED/BUILDING by a stopped process is marked FAILED and started again. */
  recoverInterrupted(): void {
    for (const b of this.list()) {
      if ((b.state !== 'QUEUED' && b.state !== 'BUILDING') || this.running.has(b.buildId)) continue;
      this.save({ ...b, state: 'FAILED', error: 'interrupted by a restart of the settings service; a new build was started', finishedAt: this.now() });
      this.start(SYSTEM, `restart after interrupted build ${b.buildId}`);
    }
  }

  /** Waits for every running build (used at shutdown). */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.running.values()]);
  }

  private async run(queued: ContentBuildRecord): Promise<ContentBuildRecord> {
    const { inputs, trust, log } = this.opts;
    let record: ContentBuildRecord = { ...queued, state: 'BUILDING' };
    try {
      this.save(record);
      const connection = inputs.connection();
      if (!connection) throw new Error('the endpoint connection settings have not been saved');
      const trustBundlePem = await trust.trustBundle();
      const enrolment = await trust.createEnrolmentToken({
        label: `content build ${record.revision}`,
        ttlSeconds: this.opts.enrolmentTokenTtlSeconds,
      });
      record = { ...record, enrolmentTokenId: enrolment.tokenId };
      const builtAt = this.opts.clock.now();
      const configuration: commonV1.EndpointConfiguration = {
        revision: record.revision,
        brokerHost: connection.fqdn,
        brokerPort: connection.port,
        trustBundlePem,
        enrolmentToken: enrolment.token,
        zoneRoutes: inputs.zoneRoutes(),
        directRouteDisabled: false,
        heartbeatPolicy: toProtoHeartbeatPolicy(inputs.heartbeatPolicy()),
        actionLockMode: ACTION_LOCK_TO_PROTO[connection.actionLock],
        recorderFiles: inputs.recorderFiles().map((f) => ({ name: f.fileName, content: f.content })),
        logLevel: LOG_LEVEL_TO_PROTO[inputs.endpointLogLevel()],
      };
      const packages: Array<PackageSummary & { content: Buffer }> = [];
      for (const os of PACKAGE_OPERATING_SYSTEMS) {
        const content = await packageZip(os, configuration, builtAt);
        packages.push({
          os,
          fileName: `direct-connect-${os.toLowerCase()}-r${record.revision}.zip`,
          sizeBytes: content.length,
          sha256: createHash('sha256').update(content).digest('hex'),
          content,
        });
      }
      const configurationJson = JSON.stringify(commonV1.EndpointConfiguration.toJSON(configuration));
      record = { ...record, state: 'SUCCEEDED', finishedAt: this.now(), packages: packages.map(({ content: _c, ...s }) => s) };
      this.opts.store.transaction(() => {
        for (const p of packages) {
          this.stmt.insert.run({ buildId: record.buildId, os: p.os, fileName: p.fileName, sha256: p.sha256, configuration: configurationJson, content: p.content });
        }
        this.save(record);
      });
      log.info({ buildId: record.buildId }, 'content build succeeded');
      return record;
    } catch (err) {
      const message = (err as Error).message;
      log.error({ buildId: record.buildId, err: message }, 'content build failed');
      record = { ...record, state: 'FAILED', error: message, finishedAt: this.now() };
      try {
        this.save(record);
      } catch (saveErr) {
        // The store is closed (shutdown); recoverInterrupted() repairs the record at next start.
        log.warn({ buildId: record.buildId, err: (saveErr as Error).message }, 'content build result not saved');
      }
      return record;
    }
  }

  private save(record: ContentBuildRecord): void {
    this.opts.store.put(SYSTEM, CONTENT_BUILD_KIND, record.buildId, record);
  }

  private now(): string {
    return this.opts.clock.now().toISOString();
  }
}

/** Zero-padded so the store's key order is the build order. */
function buildIdOf(revision: number): string {
  return `cb-${String(revision).padStart(8, '0')}`;
}

export const ACTION_LOCK_TO_PROTO: Record<ActionLockMode, commonV1.ActionLockMode> = {
  BLOCK_ALL: commonV1.ActionLockMode.ACTION_LOCK_MODE_BLOCK_ALL,
  ALLOW_NEW_CONNECTIONS: commonV1.ActionLockMode.ACTION_LOCK_MODE_ALLOW_NEW_CONNECTIONS,
  ALLOW_NEW_CONNECTIONS_AND_CONFIGURATION: commonV1.ActionLockMode.ACTION_LOCK_MODE_ALLOW_NEW_CONNECTIONS_AND_CONFIGURATION,
};

export const LOG_LEVEL_TO_PROTO: Record<LogLevel, commonV1.LogLevel> = {
  trace: commonV1.LogLevel.LOG_LEVEL_TRACE,
  debug: commonV1.LogLevel.LOG_LEVEL_DEBUG,
  info: commonV1.LogLevel.LOG_LEVEL_INFO,
  warn: commonV1.LogLevel.LOG_LEVEL_WARN,
  error: commonV1.LogLevel.LOG_LEVEL_ERROR,
  fatal: commonV1.LogLevel.LOG_LEVEL_FATAL,
};

const DIRECTION_TO_PROTO = {
  AGENT_INITIATED: commonV1.CommunicationDirection.COMMUNICATION_DIRECTION_AGENT_INITIATED,
  MANAGER_INITIATED: commonV1.CommunicationDirection.COMMUNICATION_DIRECTION_MANAGER_INITIATED,
  BIDIRECTIONAL: commonV1.CommunicationDirection.COMMUNICATION_DIRECTION_BIDIRECTIONAL,
} as const;

export function toProtoHeartbeatPolicy(p: HeartbeatPolicy): commonV1.HeartbeatPolicy {
  return {
    interval: { seconds: p.intervalSeconds, nanos: 0 },
    missedHeartbeatsBeforeOffline: p.missedHeartbeatsBeforeOffline,
    missedHeartbeatsBeforeAlert: p.missedHeartbeatsBeforeAlert ?? undefined,
    direction: DIRECTION_TO_PROTO[p.direction],
  };
}
