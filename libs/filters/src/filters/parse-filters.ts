// Parses and validates `filters.json` and `<module>_filters.json` (SPEC 2.3).
import type { EventFamily, FilterRule, FiltersDocument, RuleAction } from '../model';
import { readFamilies, readId, readOptionalText, readWhen } from '../validation/common';
import { IssueList, keyPath, readChoice, readJson, readObject, readVersion } from '../validation/reader';
import { EVENT_FAMILIES } from '../model';

const ACTIONS: readonly RuleAction[] = ['include', 'exclude'];

/**
 * Parses a filters document (JSON text, or a value already parsed) and validates all of it.
 * @param source the file name, used in error messages (`map_filters.json`)
 * @throws FilterValidationError listing every problem with its JSON path
 */
export function parseFilters(input: unknown, source = 'filters.json'): FiltersDocument {
  const issues = new IssueList();
  const json = readJson(input, issues);
  issues.finish(source);
  const doc = readObject(json, '$', issues, ['version', 'description', 'defaults', 'rules']);
  if (!doc) return issues.fail(source);
  readVersion(doc, issues);
  readOptionalText(doc, 'description', '$', issues);

  const defaults: Partial<Record<EventFamily, RuleAction>> = {};
  if (Object.hasOwn(doc, 'defaults')) {
    const d = readObject(doc.defaults, '$.defaults', issues, EVENT_FAMILIES);
    if (d) {
      for (const [family, action] of Object.entries(d)) {
        if (!(EVENT_FAMILIES as readonly string[]).includes(family)) continue; // reported above
        const a = readChoice(action, keyPath('$.defaults', family), issues, ACTIONS);
        if (a) defaults[family as EventFamily] = a;
      }
    }
  }

  const rules: FilterRule[] = [];
  if (Object.hasOwn(doc, 'rules')) {
    if (!Array.isArray(doc.rules)) issues.add('$.rules', 'must be an array of rules', doc.rules);
    else {
      const seen = new Map<string, string>();
      doc.rules.forEach((raw, i) => {
        const path = `$.rules[${i}]`;
        const item = readObject(raw, path, issues, ['id', 'description', 'family', 'action', 'when'], ['id', 'family', 'action', 'when']);
        if (!item) return;
        const id = readId(item, path, issues, seen);
        const description = readOptionalText(item, 'description', path, issues);
        const families = Object.hasOwn(item, 'family') ? readFamilies(item.family, `${path}.family`, issues) : undefined;
        const action = Object.hasOwn(item, 'action') ? readChoice(item.action, `${path}.action`, issues, ACTIONS) : undefined;
        const when = readWhen(item, path, issues);
        if (id && families && action && when) {
          rules.push(description === undefined ? { id, families, action, when } : { id, description, families, action, when });
        }
      });
    }
  }
  issues.finish(source);
  return { version: 1, defaults, rules };
}
