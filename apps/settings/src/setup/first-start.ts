// Set-up at first start (SPEC 1.4.1): default or custom mode, the bootstrap administrator and service account credentials.
import { join } from 'node:path';
import type { ActionGroupService } from '../action-group/action-group';
import type { Clock } from '../clock';
import { InvalidArgument } from '../errors';
import type { TokenService } from '../rbac/tokens';
import type { UserService } from '../rbac/users';
import type { ServiceAccountService } from '../service-account/service-account';
import { writeFileAtomic } from '../store/atomic-file';
import type { SettingsStore } from '../store/settings-store';

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
      deps.serviceAccount.set(SYSTEM, request.installingIdentity);
      const service = deps.tokens.create(SYSTEM, request.installingIdentity, 'service account (written at first start)', null);
      writeFileAtomic(join(deps.dataDir, SERVICE_ACCOUNT_TOKEN_FILE), `${service.token}\n`);
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
