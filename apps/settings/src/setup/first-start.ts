// Set-up at first start (SPEC 1.4.1): default or custom mode, the bootstrap administrator and service account credentials.
import { join } from 'node:path';
import type { ActionGroupService } from '../action-group/action-group';
import type { Clock } from '../clock';
import { InvalidArgument } from '../errors';
import type { TokenService } from '../rbac/tokens';
import type { UserService } from '../rbac/users';
import type { ServiceAccountService } from '../service-account/service-account';
import { writeFileAtomic } from '@dc/service-kit';
import type { Actor, SettingsStore } from '../store/settings-store';

export const SETUP_MODES = ['default', 'custom'] as const;
export type SetupMode = (typeof SETUP_MODES)[number];

export const ADMIN_TOKEN_FILE = 'admin.token';
export const SERVICE_ACCOUNT_TOKEN_FILE = 'service-account.token';
export const BOOTSTRAP_ADMIN = 'admin';
const SYSTEM = 'system:setup';

export interface SetupRecord {
  mode: SetupMode;
  completedAt: string;
  installingIdentity: string;
}

export const SETUP_KIND = 'setup';

export interface FirstStartDeps {
  store: SettingsStore;
  users: UserService;
  tokens: TokenService;
  actionGroup: ActionGroupService;
  serviceAccount: ServiceAccountService;
  clock: Clock;
  dataDir: string;
}

/**
 * Runs once, on an empty store: records the set-up mode, creates the bootstrap administrator
 * (token in `<dataDir>/admin.token`, mode 0600) and — in default mode — makes the installing
 * identity the service account (token in `<dataDir>/service-account.token`) and targets the
 * action group at All Computers. Custom mode starts with No Computers and no service account.
 * Returns undefined when set-up had already run (the mode given then is ignored).
 */
export function runFirstStartSetup(
  deps: FirstStartDeps,
  request: { mode: SetupMode; installingIdentity: string },
): SetupRecord | undefined {
  if (deps.store.get(SETUP_KIND, 'setup')) return undefined;
  if (!SETUP_MODES.includes(request.mode)) {
    throw new InvalidArgument('setup.mode', `must be one of ${SETUP_MODES.join(', ')}`, request.mode);
  }
  if (request.mode === 'default' && request.installingIdentity === BOOTSTRAP_ADMIN) {
    throw new InvalidArgument('setup.installingIdentity', `must differ from the bootstrap administrator "${BOOTSTRAP_ADMIN}"`, request.installingIdentity);
  }
  const record: SetupRecord = {
    mode: request.mode,
    completedAt: deps.clock.now().toISOString(),
    installingIdentity: request.installingIdentity,
  };
  // Token files are written inside the transaction, before its commit: if the commit fails, the
  // next start runs set-up again and overwrites them; no committed user is left without a credential.
  deps.store.transaction(() => {
    deps.users.create(SYSTEM, BOOTSTRAP_ADMIN, ['ADMINISTRATOR'], 'Bootstrap administrator');
    const admin = deps.tokens.create(SYSTEM, BOOTSTRAP_ADMIN, 'bootstrap administrator (written at first start)', null);
    writeFileAtomic(join(deps.dataDir, ADMIN_TOKEN_FILE), `${admin.token}\n`);
    if (request.mode === 'default') {
      const { token } = deps.serviceAccount.set(SYSTEM, request.installingIdentity, null);
      writeFileAtomic(join(deps.dataDir, SERVICE_ACCOUNT_TOKEN_FILE), `${token}\n`);
      deps.actionGroup.set(SYSTEM, { target: 'ALL_COMPUTERS', computerGroupId: '' });
    } else {
      deps.actionGroup.set(SYSTEM, { target: 'NO_COMPUTERS', computerGroupId: '' });
    }
    deps.store.put(SYSTEM, SETUP_KIND, 'setup', record);
  });
  return record;
}

export function setupRecord(store: SettingsStore): SetupRecord | undefined {
  return store.get<SetupRecord>(SETUP_KIND, 'setup')?.value;
}

/**
 * ApplySetup: re-applies what a mode sets. DEFAULT makes the installing identity the service
 * account (a new token, returned once) and targets All Computers; CUSTOM targets No Computers.
 */
export function applySetup(
  deps: FirstStartDeps,
  actor: Actor,
  mode: SetupMode,
): { record: SetupRecord; serviceAccountToken: string } {
  if (!SETUP_MODES.includes(mode)) throw new InvalidArgument('mode', `must be one of ${SETUP_MODES.join(', ')}`, mode);
  return deps.store.transaction(() => {
    const current = setupRecord(deps.store);
    const installingIdentity = current?.installingIdentity || (typeof actor === 'string' ? actor : actor.name);
    let serviceAccountToken = '';
    if (mode === 'default') {
      serviceAccountToken = deps.serviceAccount.set(actor, installingIdentity, null).token;
      deps.actionGroup.set(actor, { target: 'ALL_COMPUTERS', computerGroupId: '' });
    } else {
      deps.actionGroup.set(actor, { target: 'NO_COMPUTERS', computerGroupId: '' });
    }
    const record: SetupRecord = { mode, completedAt: deps.clock.now().toISOString(), installingIdentity };
    deps.store.put(actor, SETUP_KIND, 'setup', record);
    return { record, serviceAccountToken };
  });
}

export interface SetupStep {
  name: string;
  done: boolean;
  detail: string;
}

/** What set-up still lacks, step by step. */
export function setupSteps(deps: {
  serviceAccountConfigured: boolean;
  actionGroupTarget: string;
  connectionSettingsSaved: boolean;
  latestBuildState: string | undefined;
}): SetupStep[] {
  return [
    {
      name: 'service account',
      done: deps.serviceAccountConfigured,
      detail: deps.serviceAccountConfigured ? '' : 'no service account with a valid token (SetServiceAccount)',
    },
    {
      name: 'action group',
      done: deps.actionGroupTarget !== 'NO_COMPUTERS',
      detail: deps.actionGroupTarget === 'NO_COMPUTERS' ? 'the action group targets No Computers' : '',
    },
    { name: 'connection settings', done: deps.connectionSettingsSaved, detail: deps.connectionSettingsSaved ? '' : 'FQDN not set' },
    {
      name: 'content build',
      done: deps.latestBuildState === 'SUCCEEDED',
      detail: deps.latestBuildState === 'SUCCEEDED' ? '' : deps.latestBuildState ? `latest build is ${deps.latestBuildState}` : 'no content build yet',
    },
  ];
}
