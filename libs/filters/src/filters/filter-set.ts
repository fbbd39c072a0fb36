// Merges filters.json, every <module>_filters.json and the watchlist into one FilterSet that decides keep/drop.
import { compileCondition, type CompileOptions, type Predicate } from '../conditions/compile-condition';
import { RuleIndex } from '../matchers/rule-index';
import { EVENT_FAMILIES, type Condition, type EventFamily, type FilterEvent, type FiltersDocument, type RuleAction, type WatchlistDocument } from '../model';
import { WatchlistMatcher } from '../watchlist/watchlist-matcher';

/** What to do with one event, and why. Decisions are shared, frozen objects: do not mutate. */
export interface FilterDecision {
  /** Record the event (true) or drop it (false). */
  readonly keep: boolean;
  /**
   * `watchlist`: a watched file event (kept whatever the filters say); `include` / `exclude`:
   * the rule `ruleId` decided; `default`: no rule matched, the family's default applied.
   */
  readonly reason: 'watchlist' | 'include' | 'exclude' | 'default';
  /** The deciding rule's id (reasons `include` and `exclude`). */
  readonly ruleId?: string;
  /** The module whose `<module>_filters.json` holds the deciding rule; absent for `filters.json`. */
  readonly module?: string;
}

/** The documents to merge. */
export interface FilterSetInput {
  /** The base `filters.json`. */
  readonly base?: FiltersDocument;
  /** Each `<module>_filters.json`, e.g. `{ module: 'map', filters }` for `map_filters.json`. Sort by module name for stable provenance. */
  readonly modules?: readonly { readonly module: string; readonly filters: FiltersDocument }[];
  /** The Integrity Monitor `watchlist.json`: watched file events override every file filter. */
  readonly watchlist?: WatchlistDocument;
}

/** Where a merged rule came from. */
export interface RuleProvenance {
  readonly ruleId: string;
  /** Absent for the base `filters.json`. */
  readonly module?: string;
  readonly action: RuleAction;
  readonly family: EventFamily;
}

interface FamilyRules {
  /** Include rules first, then exclude rules, each in document order: the first match decides. */
  readonly rules: RuleIndex;
  readonly decisions: readonly FilterDecision[];
  readonly fallback: FilterDecision;
}

const KEEP_WATCHED: FilterDecision = Object.freeze({ keep: true, reason: 'watchlist' });
const KEEP_DEFAULT: FilterDecision = Object.freeze({ keep: true, reason: 'default' });
const DROP_DEFAULT: FilterDecision = Object.freeze({ keep: false, reason: 'default' });

/**
 * Compiled, merged filters. Precedence for an event of family F (first that applies wins):
 * 1. a `file` event the watchlist watches is kept;
 * 2. an `include` rule for F that matches keeps it (in any document: include beats exclude);
 * 3. an `exclude` rule for F that matches drops it;
 * 4. F's default: `exclude` if some document sets it and none sets `include`; else keep.
 * Events of a family outside {@link EVENT_FAMILIES} are kept.
 */
export class FilterSet {
  private readonly families = new Map<string, FamilyRules>();
  private readonly watchlist: WatchlistMatcher | undefined;
  /** Every merged rule with its origin: per family, filters.json first, then the modules in the order given. */
  readonly provenance: readonly RuleProvenance[];

  constructor(input: FilterSetInput, options: CompileOptions = {}) {
    const documents = [
      ...(input.base ? [{ module: undefined as string | undefined, filters: input.base }] : []),
      ...(input.modules ?? []),
    ];
    const provenance: RuleProvenance[] = [];
    const linear = options.disableSignalsTrie === true;
    for (const family of EVENT_FAMILIES) {
      const groups = { include: new RuleGroupBuilder(), exclude: new RuleGroupBuilder() };
      let defaultAction: RuleAction | undefined;
      for (const { module, filters } of documents) {
        const d = filters.defaults[family];
        if (d === 'include' || (d === 'exclude' && defaultAction === undefined)) defaultAction = d;
        for (const rule of filters.rules) {
          if (!rule.families.includes(family)) continue;
          const decision: FilterDecision = Object.freeze({
            keep: rule.action === 'include',
            reason: rule.action,
            ruleId: rule.id,
            ...(module === undefined ? {} : { module }),
          });
          groups[rule.action].add(rule.when, decision, options);
          provenance.push(module === undefined ? { ruleId: rule.id, action: rule.action, family } : { ruleId: rule.id, module, action: rule.action, family });
        }
      }
      // One index over both groups, includes first, so one pass over the event's fields finds
      // the deciding rule: any matching include comes before every exclude.
      const rules = groups.include.concat(groups.exclude);
      this.families.set(family, {
        rules: rules.build(linear),
        decisions: rules.decisions,
        fallback: defaultAction === 'exclude' ? DROP_DEFAULT : KEEP_DEFAULT,
      });
    }
    this.provenance = provenance;
    this.watchlist = input.watchlist && new WatchlistMatcher(input.watchlist);
  }

  /**
   * Decides whether to record `event`. The family is `family` if given, else `event.family`.
   * The decision returned is a shared object, never allocated per event.
   */
  decide(event: FilterEvent, family: string = event.family as string): FilterDecision {
    const rules = this.families.get(family);
    if (!rules) return KEEP_DEFAULT;
    if (family === 'file' && this.watchlist?.watches(event)) return KEEP_WATCHED;
    const first = rules.rules.size > 0 ? rules.rules.firstMatch(event) : -1;
    if (first >= 0) return rules.decisions[first];
    return rules.fallback;
  }
}

class RuleGroupBuilder {
  private readonly predicates: Predicate[] = [];
  private readonly conditions: Condition[] = [];
  readonly decisions: FilterDecision[] = [];

  add(when: Condition, decision: FilterDecision, options: CompileOptions): void {
    this.predicates.push(compileCondition(when, options));
    this.conditions.push(when);
    this.decisions.push(decision);
  }

  /** A builder holding this group's rules followed by `other`'s. */
  concat(other: RuleGroupBuilder): RuleGroupBuilder {
    const both = new RuleGroupBuilder();
    both.predicates.push(...this.predicates, ...other.predicates);
    both.conditions.push(...this.conditions, ...other.conditions);
    both.decisions.push(...this.decisions, ...other.decisions);
    return both;
  }

  build(linear: boolean): RuleIndex {
    return new RuleIndex(this.predicates, this.conditions, linear);
  }
}

/** Merges and compiles the documents into one {@link FilterSet}. */
export function compileFilterSet(input: FilterSetInput, options: CompileOptions = {}): FilterSet {
  return new FilterSet(input, options);
}
