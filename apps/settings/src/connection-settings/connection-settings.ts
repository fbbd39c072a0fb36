// Endpoint connection settings (SPEC 1.4.4): FQDN, the fixed port 17475, Action Lock behaviour; saving starts a content build.
import type { ContentBuildRecord, ContentBuilds } from '../content-build/content-builds';
import { InvalidArgument } from '../errors';
import type { Actor, SettingsStore } from '../store/settings-store';
import { type Resolver, resolutionWarning, validateHost } from './fqdn';

export const ENDPOINT_CONNECTION_PORT = 17475; // SPEC 1.2: fixed, shown, cannot be changed

/** What an endpoint does with Direct Connect actions while its action lock is on (SPEC 1.4.4). */
export const ACTION_LOCK_MODES = [
  'BLOCK_ALL',
  'ALLOW_NEW_CONNECTIONS',
  'ALLOW_NEW_CONNECTIONS_AND_CONFIGURATION',
] as const;
export type ActionLockMode = (typeof ACTION_LOCK_MODES)[number];

export interface ConnectionSettings {
  fqdn: string;
  port: number;
  actionLock: ActionLockMode;
}

export const SAVED_MESSAGE = 'The endpoint connection settings saved successfully.'; // SPEC 1.4.4
export const CONTENT_BUILD_MESSAGE =
  'Content build is in progress. Connection settings will deploy to endpoints once complete.'; // SPEC 1.4.4

export interface SaveConnectionSettingsInput {
  fqdn: string;
  /** Omitted or 0 means the fixed port; any other value than 17475 is refused. */
  port?: number;
  actionLock?: ActionLockMode;
  /** Skip resolving the FQDN from this server (by default a failure is reported as a warning). */
  skipResolutionCheck?: boolean;
}

export interface SaveConnectionSettingsResult {
  settings: ConnectionSettings;
  revision: number;
  messages: [string, string];
  warnings: string[];
  contentBuild: ContentBuildRecord;
}

export const CONNECTION_SETTINGS_KIND = 'connection_settings';
const KEY = 'endpoint';

export class ConnectionSettingsService {
  constructor(
    private readonly deps: { store: SettingsStore; contentBuilds: ContentBuilds; resolver: Resolver },
  ) {}

  /** The saved settings, or undefined before the first save. */
  get(): { settings: ConnectionSettings; revision: number } | undefined {
    const doc = this.deps.store.get<ConnectionSettings>(CONNECTION_SETTINGS_KIND, KEY);
    return doc && { settings: doc.value, revision: doc.revision };
  }

  /** Validates and saves the settings, then starts the content build (one package per OS). */
  async save(actor: Actor, input: SaveConnectionSettingsInput): Promise<SaveConnectionSettingsResult> {
    const host = validateHost('fqdn', input.fqdn ?? '', { requireQualified: true });
    const port = input.port ?? 0;
    if (port !== 0 && port !== ENDPOINT_CONNECTION_PORT) {
      throw new InvalidArgument('port', `the endpoint connection port is fixed at ${ENDPOINT_CONNECTION_PORT} and cannot be changed (SPEC 1.2)`, port);
    }
    const actionLock = input.actionLock ?? this.get()?.settings.actionLock ?? 'BLOCK_ALL';
    if (!ACTION_LOCK_MODES.includes(actionLock)) {
      throw new InvalidArgument('actionLock', `must be one of ${ACTION_LOCK_MODES.join(', ')}`, String(actionLock));
    }
    const warnings = [...host.warnings];
    if (!input.skipResolutionCheck) {
      const warning = await resolutionWarning('fqdn', host, this.deps.resolver);
      if (warning) warnings.push(warning);
    }
    const settings: ConnectionSettings = { fqdn: host.host, port: ENDPOINT_CONNECTION_PORT, actionLock };
    const revision = this.deps.store.put(actor, CONNECTION_SETTINGS_KIND, KEY, settings);
    const contentBuild = this.deps.contentBuilds.start(actor, `connection settings saved by ${typeof actor === 'string' ? actor : actor.name}`);
    return { settings, revision, messages: [SAVED_MESSAGE, CONTENT_BUILD_MESSAGE], warnings, contentBuild };
  }
}
