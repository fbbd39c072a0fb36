// FilterValidationError: every problem found in one filters/watchlist/signals document.

/** One broken rule of a document: where (JSON path), which rule, and the value found there. */
export interface ValidationIssue {
  /** JSONPath of the offending value, e.g. `$.rules[3].when.all[0].cidr`. */
  readonly path: string;
  /** The rule it broke, e.g. `must be an IPv4 or IPv6 CIDR like 10.0.0.0/8`. */
  readonly rule: string;
  /** The value found (absent when the problem is a missing key). */
  readonly value?: unknown;
}

/**
 * Thrown when a `filters.json`, `<module>_filters.json`, `watchlist.json` or `signals.json`
 * breaks the language. Carries every problem found, not only the first.
 */
export class FilterValidationError extends Error {
  constructor(
    /** Name of the document, e.g. `map_filters.json` (as the caller named it). */
    readonly source: string,
    readonly issues: readonly ValidationIssue[],
  ) {
    super(
      `${source}: ${issues.length} problem${issues.length === 1 ? '' : 's'}:\n` +
        issues.map((i) => `  ${formatIssue(i)}`).join('\n'),
    );
    this.name = 'FilterValidationError';
  }
}

/** `$.rules[0].action "drop": must be one of include, exclude` */
export function formatIssue(issue: ValidationIssue): string {
  return 'value' in issue ? `${issue.path} ${formatValue(issue.value)}: ${issue.rule}` : `${issue.path}: ${issue.rule}`;
}

function formatValue(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}
