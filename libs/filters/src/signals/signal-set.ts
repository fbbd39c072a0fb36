// Compiled signals.json: which detections an event matches, and their definitions for monitor.db.
import { compileCondition, type CompileOptions, type Predicate } from '../conditions/compile-condition';
import { renderCondition } from '../conditions/parse-condition';
import { RuleIndex } from '../matchers/rule-index';
import { EVENT_FAMILIES, type Condition, type EventFamily, type FilterEvent, type SignalDefinition, type SignalSeverity, type SignalsDocument } from '../model';

/** One signal an event matched. Shared, frozen objects: do not mutate. */
export interface SignalMatch {
  readonly signalId: string;
  readonly name: string;
  readonly severity: SignalSeverity;
  readonly tags: readonly string[];
}

interface FamilySignals {
  readonly index: RuleIndex;
  readonly matches: readonly SignalMatch[];
}

const NO_MATCHES: readonly SignalMatch[] = Object.freeze([]);

/** Compiled signals, grouped by family. */
export class SignalSet {
  private readonly families = new Map<string, FamilySignals>();
  private readonly scratch: number[] = [];

  constructor(
    /** The definitions compiled, as parsed. */
    readonly document: SignalsDocument,
    options: CompileOptions = {},
  ) {
    const linear = options.disableSignalsTrie === true;
    for (const family of EVENT_FAMILIES) {
      const predicates: Predicate[] = [];
      const conditions: Condition[] = [];
      const matches: SignalMatch[] = [];
      for (const s of document.signals) {
        if (!s.families.includes(family)) continue;
        predicates.push(compileCondition(s.when, options));
        conditions.push(s.when);
        matches.push(Object.freeze({ signalId: s.id, name: s.name, severity: s.severity, tags: Object.freeze([...s.tags]) }));
      }
      if (predicates.length > 0) this.families.set(family, { index: new RuleIndex(predicates, conditions, linear), matches });
    }
  }

  /** Number of signal definitions. */
  get size(): number {
    return this.document.signals.length;
  }

  /**
   * Every signal `event` matches, in definition order; a shared empty array when none (no
   * allocation). The family is `family` if given, else `event.family`. Storing at most
   * RecordSignalMatches of them (SPEC 2.6) is the caller's job.
   */
  match(event: FilterEvent, family: string = event.family as string): readonly SignalMatch[] {
    const f = this.families.get(family);
    if (!f) return NO_MATCHES;
    const found = this.scratch;
    found.length = 0;
    if (f.index.allMatches(event, found) === 0) return NO_MATCHES;
    return found.map((i) => f.matches[i]);
  }
}

/** Compiles a parsed signals document. */
export function compileSignals(document: SignalsDocument, options: CompileOptions = {}): SignalSet {
  return new SignalSet(document, options);
}

/** A signal definition as stored in monitor.db (SPEC 2.6 RecordSignalDefinitions). */
export interface StoredSignalDefinition {
  readonly id: string;
  readonly name: string;
  readonly severity: SignalSeverity;
  readonly families: readonly EventFamily[];
  /** The normalised definition in the signals.json language, as canonical JSON text. */
  readonly json: string;
}

/**
 * The normalised definitions, one per signal, ready to store. `json` re-parses with
 * `parseSignals({ signals: [JSON.parse(json)] })` to the same definition.
 */
export function serializeSignalDefinitions(document: SignalsDocument): StoredSignalDefinition[] {
  return document.signals.map((s) => ({
    id: s.id,
    name: s.name,
    severity: s.severity,
    families: [...s.families],
    json: JSON.stringify(renderSignal(s)),
  }));
}

function renderSignal(s: SignalDefinition): unknown {
  return {
    id: s.id,
    name: s.name,
    ...(s.description === undefined ? {} : { description: s.description }),
    severity: s.severity,
    family: s.families.length === 1 ? s.families[0] : [...s.families],
    tags: [...s.tags],
    when: renderCondition(s.when),
  };
}
