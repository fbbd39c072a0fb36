// The action group (SPEC 1.4.2): the endpoints that receive Direct Connect packages and sessions.
import type { ComputerGroupService } from '../computer-groups/computer-groups';
import type { EndpointProperties } from '../computer-groups/rules';
import { InvalidArgument } from '../errors';
import type { SettingsStore } from '../store/settings-store';

export const ACTION_GROUP_TARGETS = ['NO_COMPUTERS', 'ALL_COMPUTERS', 'COMPUTER_GROUP'] as const;
export type ActionGroupTarget = (typeof ACTION_GROUP_TARGETS)[number];

export interface ActionGroup {
  target: ActionGroupTarget;
  /** Set when target is COMPUTER_GROUP. */
  computerGroup: string;
}

export const ACTION_GROUP_KIND = 'action_group';
const KEY = 'direct-connect';

/** Before set-up, nobody is in the action group. */
const NO_COMPUTERS: ActionGroup = { target: 'NO_COMPUTERS', computerGroup: '' };

export interface Membership {
  inActionGroup: boolean;
  reason: string;
}

export class ActionGroupService {
  constructor(
    private readonly store: SettingsStore,
    private readonly groups: ComputerGroupService,
  ) {}

  get(): ActionGroup {
    return this.store.get<ActionGroup>(ACTION_GROUP_KIND, KEY)?.value ?? NO_COMPUTERS;
  }

  set(actor: string, group: ActionGroup): { actionGroup: ActionGroup; revision: number } {
    if (!ACTION_GROUP_TARGETS.includes(group.target)) {
      throw new InvalidArgument('target', `must be one of ${ACTION_GROUP_TARGETS.join(', ')}`, String(group.target));
    }
    return this.store.transaction(() => {
      let value: ActionGroup = { target: group.target, computerGroup: '' };
      if (group.target === 'COMPUTER_GROUP') {
        if (!group.computerGroup) {
          throw new InvalidArgument('computerGroup', 'required when the target is COMPUTER_GROUP', '');
        }
        value = { target: 'COMPUTER_GROUP', computerGroup: this.groups.get(group.computerGroup).name };
      }
      return { actionGroup: value, revision: this.store.put(actor, ACTION_GROUP_KIND, KEY, value) };
    });
  }

  /** Whether an endpoint is in the action group; endpoints outside get no packages and no sessions. */
  contains(endpoint: EndpointProperties): Membership {
    const group = this.get();
    switch (group.target) {
      case 'NO_COMPUTERS':
        return { inActionGroup: false, reason: 'the action group targets No Computers' };
      case 'ALL_COMPUTERS':
        return { inActionGroup: true, reason: 'the action group targets All Computers' };
      case 'COMPUTER_GROUP': {
        const inGroup = this.groups.contains(group.computerGroup, endpoint);
        return {
          inActionGroup: inGroup,
          reason: `endpoint ${inGroup ? 'matches' : 'does not match'} computer group "${group.computerGroup}"`,
        };
      }
    }
  }

  /** Why a computer group may not be deleted, if the action group targets it. */
  usesGroup(name: string): string | undefined {
    const group = this.get();
    return group.target === 'COMPUTER_GROUP' && group.computerGroup === name
      ? 'it is the target of the action group; retarget the action group first'
      : undefined;
  }
}
