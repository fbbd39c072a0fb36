// How events are read: dotted field paths, and the text/number form of a field value.

/** Reads one field of an event. */
export type FieldGetter = (event: Readonly<Record<string, unknown>>) => unknown;

/** A getter for `exe` or `remote.address`; a missing step (or a non-object on the way) gives undefined. */
export function fieldGetter(path: string): FieldGetter {
  const steps = path.split('.');
  if (steps.length === 1) {
    const key = steps[0];
    return (event) => event[key];
  }
  return (event) => {
    let value: unknown = event;
    for (let i = 0; i < steps.length; i++) {
      if (typeof value !== 'object' || value === null) return undefined;
      value = (value as Record<string, unknown>)[steps[i]];
    }
    return value;
  };
}

/**
 * The text a string operator sees: strings as they are, numbers in decimal (`22`, `1.5`),
 * booleans as `true`/`false`; anything else (objects, null, undefined) has no text.
 */
export function textOf(value: unknown): string | undefined {
  switch (typeof value) {
    case 'string':
      return value;
    case 'number':
    case 'bigint':
    case 'boolean':
      return String(value);
    default:
      return undefined;
  }
}

/** The number a comparison sees: numbers, and strings holding a decimal number; otherwise NaN. */
export function numberOf(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'string' && value.trim() !== '') return Number(value);
  return NaN;
}
