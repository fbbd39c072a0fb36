// The validated, normalised language: event families, conditions, and the three documents.

/** Event families a rule can address (SPEC 2.1). */
export const EVENT_FAMILIES = ['process', 'file', 'network', 'security', 'dns', 'registry', 'image'] as const;

/** One event family (SPEC 2.1). */
export type EventFamily = (typeof EVENT_FAMILIES)[number];

/**
 * An event as the filters see it: any plain object. Fields are addressed by name or dotted path
 * (`exe`, `process.uid`, `remote.address`). `family` is read from the event unless the caller
 * passes it separately.
 */
export type FilterEvent = Readonly<Record<string, unknown>>;

/** What a filter rule does with the events it matches. */
export type RuleAction = 'include' | 'exclude';

/** Signal severities, lowest first. */
export const SIGNAL_SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;
export type SignalSeverity = (typeof SIGNAL_SEVERITIES)[number];

/** File operations a watchlist can select; the same words `@dc/audit` puts in `FileEvent.operation`. */
export const FILE_OPERATIONS = ['create', 'write', 'delete', 'rename', 'chmod', 'chown', 'link'] as const;
export type FileOperation = (typeof FILE_OPERATIONS)[number];

/** A literal an `equals` / `in` test compares against. */
export type Scalar = string | number | boolean;

/** Operators over text (numbers and booleans are compared in their decimal/`true` text form). */
export type TextOperator = 'equals' | 'in' | 'beginsWith' | 'endsWith' | 'contains';
/** Numeric comparisons. */
export type NumericOperator = 'gt' | 'gte' | 'lt' | 'lte';
/** Every field operator of the language. */
export type Operator = TextOperator | NumericOperator | 'regex' | 'cidr' | 'exists';

export const TEXT_OPERATORS: readonly TextOperator[] = ['equals', 'in', 'beginsWith', 'endsWith', 'contains'];
export const NUMERIC_OPERATORS: readonly NumericOperator[] = ['gt', 'gte', 'lt', 'lte'];
export const OPERATORS: readonly Operator[] = [...TEXT_OPERATORS, ...NUMERIC_OPERATORS, 'regex', 'cidr', 'exists'];

/**
 * A parsed condition. The JSON form is documented in the README; this is its normalised tree:
 * literal lists are always arrays, `equals` / `in` literals are kept as written.
 */
export type Condition =
  | { readonly kind: 'all'; readonly of: readonly Condition[] }
  | { readonly kind: 'any'; readonly of: readonly Condition[] }
  | { readonly kind: 'not'; readonly of: Condition }
  | FieldTest;

/** One test of one field. */
export type FieldTest =
  | TextTest
  | { readonly kind: 'test'; readonly field: string; readonly op: NumericOperator; readonly value: number }
  | { readonly kind: 'test'; readonly field: string; readonly op: 'regex'; readonly value: string; readonly ignoreCase: boolean }
  | { readonly kind: 'test'; readonly field: string; readonly op: 'cidr'; readonly value: readonly string[] }
  | { readonly kind: 'test'; readonly field: string; readonly op: 'exists'; readonly value: boolean };

/** A test whose literals can be indexed (hash set, tries, Aho–Corasick). */
export interface TextTest {
  readonly kind: 'test';
  readonly field: string;
  readonly op: TextOperator;
  /** `equals` has one literal, the others one or more. */
  readonly value: readonly Scalar[];
  readonly ignoreCase: boolean;
}

/** One rule of a `filters.json` / `<module>_filters.json`. */
export interface FilterRule {
  readonly id: string;
  readonly description?: string;
  readonly families: readonly EventFamily[];
  readonly action: RuleAction;
  readonly when: Condition;
}

/** A validated `filters.json` or `<module>_filters.json`. */
export interface FiltersDocument {
  readonly version: 1;
  /** What happens to events no rule matches, per family; families not listed have no opinion. */
  readonly defaults: Readonly<Partial<Record<EventFamily, RuleAction>>>;
  readonly rules: readonly FilterRule[];
}

/** A validated `watchlist.json` (Integrity Monitor). */
export interface WatchlistDocument {
  readonly version: 1;
  /** Watched paths: a path ending in `/` watches everything below it; otherwise the path itself and everything below it. */
  readonly paths: readonly string[];
  /** Paths under a watched path that are not watched (same prefix semantics). */
  readonly exclusions: readonly string[];
  /** File operations watched; all of {@link FILE_OPERATIONS} when the file does not say. */
  readonly operations: readonly FileOperation[];
}

/** One detection of a `signals.json`. */
export interface SignalDefinition {
  readonly id: string;
  readonly name: string;
  readonly description?: string;
  readonly severity: SignalSeverity;
  readonly families: readonly EventFamily[];
  readonly tags: readonly string[];
  readonly when: Condition;
}

/** A validated `signals.json`. */
export interface SignalsDocument {
  readonly version: 1;
  readonly signals: readonly SignalDefinition[];
}
