// The action group (SPEC 1.4.2): the endpoints that receive Direct Connect packages and sessions.
import type { ComputerGroupService } from '../computer-groups/computer-groups';
import type { EndpointProperties } from '../computer-groups/rules';
import { InvalidArgument } from '../errors';
import type { Actor, SettingsStore } from '../store/settings-store';

export const ACTION_GROUP_TARGETS = ['NO_COMPUTERS', 'ALL_COMPUTERS', 'COMPUTER_GROUP'] as const;
export type ActionGroupTarget = (typeof ACTION_GROUP_TARGETS)[number];

export interface ActionGroup {
  target: ActionGroupTarget;
  /** Set when target is COMPUTER_GROUP. */
  computerGroupId: string;
}

export const ACTION_GROUP_KIND = 'action_group';
const KEY = 'direct-connect';

/** Before set-up, nobody is in the action group. */
const NO_COMPUTERS: ActionGroup = { target: 'NO_COMPUTERS', computerGroupId: '' };

export interface Membership {
  inActionGroup: boolean;
  computerGroupIds: string[];
  explanation: string;
}

export class ActionGroupService {
  constructor(
    private readonly store: SettingsStore,
    private readonly groups: ComputerGroupService,
  ) {}

  get(): ActionGroup & { revision: number; updatedAt?: Date; updatedBy?: string } {
    const doc = this.store.get<ActionGroup>(ACTION_GROUP_KIND, KEY);
    return doc ? { ...doc.value, revision: doc.revision, updatedAt: doc.updatedAt } : { ...NO_COMPUTERS, revision: 0 };
  }

  set(actor: Actor, group: ActionGroup): ActionGroup & { revision: number } {
    if (!ACTION_GROUP_TARGETS.includes(group.target)) {
      throw new InvalidArgument('target', `must be one of ${ACTION_GROUP_TARGETS.join(', ')}`, group.target);
    }
    return this.store.transaction(() => {
      let value: ActionGroup = { target: group.target, computerGroupId: '' };
      if (group.target === 'COMPUTER_GROUP') {
        if (!group.computerGroupId) throw new InvalidArgument('computerGroupId', 'required when the target is COMPUTER_GROUP', '');
        value = { target: 'COMPUTER_GROUP', computerGroupId: this.groups.get(group.computerGroupId).id };
      }
      return { ...value, revision: this.store.put(actor, ACTION_GROUP_KIND, KEY, value) };
    });
  }

  /** Whether an endpoint is in the action group; endpoints outside get no packages and no sessions. */
  contains(endpoint: EndpointProperties): Membership {
    const group = this.get();
    const computerGroupIds = this.groups.groupsOf(endpoint);
    switch (group.target) {
      case 'NO_COMPUTERS':
        return { inActionGroup: false, computerGroupIds, explanation: 'the action group targets No Computers' };
      case 'ALL_COMPUTERS':
        return { inActionGroup: true, computerGroupIds, explanation: 'the action group targets All Computers' };
      case 'COMPUTER_GROUP': {
        const target = this.groups.get(group.computerGroupId);
        const { member, matched } = this.groups.evaluate(target.id, endpoint);
        return {
          inActionGroup: member,
          computerGroupIds,
          explanation: member
            ? `the action group is computer group "${target.name}"; matched ${target.match === 'ANY' ? 'rule' : 'rules'} ${matched}`
            : `the action group is computer group "${target.name}"; the endpoint does not match its rules (match ${target.match})`,
        };
      }
    }
  }

  /** Why a computer group may not be deleted, if the action group targets it. */
  usesGroup(id: string): string | undefined {
    const group = this.get();
    return group.target === 'COMPUTER_GROUP' && group.computerGroupId === id
      ? 'it is the target of the action group; retarget the action group first'
      : undefined;
  }
}
