// Computer groups: named rule sets that select endpoints; the action group may target one.
import { alreadyExists, FailedPrecondition, InvalidArgument, notFound } from '../errors';
import type { SettingsStore } from '../store/settings-store';
import { type ComputerGroupRules, type EndpointProperties, compileRules, validateRules } from './rules';

export interface ComputerGroup {
  name: string;
  description: string;
  rules: ComputerGroupRules;
}

export const COMPUTER_GROUP_KIND = 'computer_group';

const NAME = /^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}$/;

export class ComputerGroupService {
  constructor(
    private readonly store: SettingsStore,
    /** Refuses the deletion of a group still in use (the action group's target). */
    private readonly inUse: (name: string) => string | undefined = () => undefined,
  ) {}

  list(): ComputerGroup[] {
    return this.store.list<ComputerGroup>(COMPUTER_GROUP_KIND).map((d) => d.value);
  }

  get(name: string): ComputerGroup {
    const doc = this.store.get<ComputerGroup>(COMPUTER_GROUP_KIND, name);
    if (!doc) throw notFound('computer group', name);
    return doc.value;
  }

  /** Creates a group, or replaces the rules of an existing one when `replace` is set. */
  save(actor: string, group: ComputerGroup, replace: boolean): { group: ComputerGroup; revision: number } {
    if (!NAME.test(group.name)) {
      throw new InvalidArgument('name', `a computer group name is 1–64 letters, digits, spaces, ".", "_" or "-", starting with a letter or digit`, group.name);
    }
    const valid: ComputerGroup = { name: group.name, description: group.description ?? '', rules: validateRules(group.rules) };
    return this.store.transaction(() => {
      const exists = this.store.get(COMPUTER_GROUP_KIND, group.name) !== undefined;
      if (exists && !replace) throw alreadyExists('computer group', group.name);
      if (!exists && replace) throw notFound('computer group', group.name);
      return { group: valid, revision: this.store.put(actor, COMPUTER_GROUP_KIND, group.name, valid) };
    });
  }

  delete(actor: string, name: string): number {
    return this.store.transaction(() => {
      this.get(name);
      const reason = this.inUse(name);
      if (reason) throw new FailedPrecondition(`computer group "${name}" cannot be deleted: ${reason}`);
      return this.store.remove(actor, COMPUTER_GROUP_KIND, name) as number;
    });
  }

  /** Whether the endpoint matches the group's rules. */
  contains(name: string, endpoint: EndpointProperties): boolean {
    return compileRules(this.get(name).rules)(endpoint);
  }
}
