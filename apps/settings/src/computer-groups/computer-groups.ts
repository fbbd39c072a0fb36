// Computer groups: named rule sets that select endpoints; the action group may target one.
import { randomBytes } from 'node:crypto';
import type { Clock } from '../clock';
import { Aborted, alreadyExists, FailedPrecondition, InvalidArgument, notFound } from '../errors';
import type { Actor, SettingsStore } from '../store/settings-store';
import { type ComputerGroupRule, compileRules, type EndpointProperties, type RuleMatch, validateRules } from './rules';

export interface ComputerGroup {
  id: string;
  name: string;
  description: string;
  match: RuleMatch;
  rules: ComputerGroupRule[];
  createdAt: string;
  updatedAt: string;
}

export interface ComputerGroupInput {
  name: string;
  description: string;
  match: RuleMatch;
  rules: ComputerGroupRule[];
}

export const COMPUTER_GROUP_KIND = 'computer_group';

export class ComputerGroupService {
  constructor(
    private readonly store: SettingsStore,
    private readonly clock: Clock,
    /** Why a group may not be deleted (it is the action group's target), if so. */
    private readonly inUse: (id: string) => string | undefined = () => undefined,
  ) {}

  /** Groups by name, with their revisions. */
  list(): Array<ComputerGroup & { revision: number }> {
    return this.store
      .list<ComputerGroup>(COMPUTER_GROUP_KIND)
      .map((d) => ({ ...d.value, revision: d.revision }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  get(id: string): ComputerGroup & { revision: number } {
    const doc = this.store.get<ComputerGroup>(COMPUTER_GROUP_KIND, id);
    if (!doc) throw notFound('computer group', id);
    return { ...doc.value, revision: doc.revision };
  }

  create(actor: Actor, input: ComputerGroupInput): ComputerGroup & { revision: number } {
    const valid = validate(input);
    return this.store.transaction(() => {
      if (this.list().some((g) => g.name === valid.name)) throw alreadyExists('computer group', valid.name);
      const now = this.clock.now().toISOString();
      const group: ComputerGroup = { id: `cg_${randomBytes(6).toString('hex')}`, ...valid, createdAt: now, updatedAt: now };
      const revision = this.store.put(actor, COMPUTER_GROUP_KIND, group.id, group);
      return { ...group, revision };
    });
  }

  /** Replaces name, description and rules; refuses a stale `revision` (0 = do not check). */
  update(actor: Actor, id: string, revision: number, input: ComputerGroupInput): ComputerGroup & { revision: number } {
    const valid = validate(input);
    return this.store.transaction(() => {
      const current = this.get(id);
      if (revision !== 0 && revision !== current.revision) {
        throw new Aborted(`computer group "${current.name}" changed since revision ${revision} (now ${current.revision}); reload and retry`);
      }
      if (this.list().some((g) => g.name === valid.name && g.id !== id)) throw alreadyExists('computer group', valid.name);
      const next: ComputerGroup = { ...current, ...valid, updatedAt: this.clock.now().toISOString() };
      delete (next as Partial<{ revision: number }>).revision;
      return { ...next, revision: this.store.put(actor, COMPUTER_GROUP_KIND, id, next) };
    });
  }

  delete(actor: Actor, id: string): number {
    return this.store.transaction(() => {
      const group = this.get(id);
      const reason = this.inUse(id);
      if (reason) throw new FailedPrecondition(`computer group "${group.name}" cannot be deleted: ${reason}`);
      return this.store.remove(actor, COMPUTER_GROUP_KIND, id) as number;
    });
  }

  /** Whether the endpoint matches the group's rules, and which rules matched. */
  evaluate(id: string, endpoint: EndpointProperties): { member: boolean; matched: string } {
    const group = this.get(id);
    const compiled = compileRules(group.match, group.rules);
    return { member: compiled.matches(endpoint), matched: compiled.describe(endpoint) };
  }

  /** The ids of every group the endpoint belongs to. */
  groupsOf(endpoint: EndpointProperties): string[] {
    return this.list()
      .filter((g) => compileRules(g.match, g.rules).matches(endpoint))
      .map((g) => g.id);
  }
}

function validate(input: ComputerGroupInput): ComputerGroupInput {
  const name = (input.name ?? '').trim();
  if (name.length < 1 || name.length > 100) throw new InvalidArgument('name', 'a computer group name is 1–100 characters', input.name);
  if ((input.description ?? '').length > 1000) throw new InvalidArgument('description', 'at most 1000 characters');
  const match = input.match ?? 'ALL';
  if (match !== 'ALL' && match !== 'ANY') throw new InvalidArgument('match', 'must be ALL or ANY', match);
  return { name, description: input.description ?? '', match, rules: validateRules(input.rules ?? []) };
}
