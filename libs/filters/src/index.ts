// @dc/filters: the filters / watchlist / signals language — parse, validate, compile, evaluate (SPEC 2.1, 2.3, 2.6).
export {
  EVENT_FAMILIES,
  FILE_OPERATIONS,
  SIGNAL_SEVERITIES,
  OPERATORS,
  type EventFamily,
  type FilterEvent,
  type FileOperation,
  type RuleAction,
  type SignalSeverity,
  type Scalar,
  type Operator,
  type Condition,
  type FieldTest,
  type TextTest,
  type FilterRule,
  type FiltersDocument,
  type WatchlistDocument,
  type SignalDefinition,
  type SignalsDocument,
} from './model';
export { FilterValidationError, formatIssue, type ValidationIssue } from './errors';
export { parseFilters } from './filters/parse-filters';
export { parseWatchlist } from './watchlist/parse-watchlist';
export { WATCHLIST_FIELDS } from './watchlist/watchlist-matcher';
export { parseSignals } from './signals/parse-signals';
export { compileCondition, type CompileOptions, type Predicate } from './conditions/compile-condition';
export { parseConditionJson } from './conditions/parse-condition-json';
export {
  FilterSet,
  compileFilterSet,
  type FilterDecision,
  type FilterSetInput,
  type RuleProvenance,
} from './filters/filter-set';
export { compileFilterFiles, type FilterFilesResult } from './filters/filter-files';
export {
  SignalSet,
  compileSignals,
  serializeSignalDefinitions,
  type SignalMatch,
  type StoredSignalDefinition,
} from './signals/signal-set';
