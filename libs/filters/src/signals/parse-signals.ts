// Parses and validates `signals.json`: the detections matched against every recorded event.
import { SIGNAL_SEVERITIES, type SignalDefinition, type SignalsDocument } from '../model';
import { readFamilies, readId, readOptionalText, readWhen } from '../validation/common';
import { IssueList, keyPath, readChoice, readJson, readObject, readStringList, readVersion } from '../validation/reader';

/**
 * Parses a signals document (JSON text, or a value already parsed) and validates all of it.
 * @throws FilterValidationError listing every problem with its JSON path
 */
export function parseSignals(input: unknown, source = 'signals.json'): SignalsDocument {
  const issues = new IssueList();
  const json = readJson(input, issues);
  issues.finish(source);
  const doc = readObject(json, '$', issues, ['version', 'signals'], ['signals']);
  if (!doc) return issues.fail(source);
  readVersion(doc, issues);
  const signals: SignalDefinition[] = [];
  if (Object.hasOwn(doc, 'signals')) {
    if (!Array.isArray(doc.signals)) issues.add('$.signals', 'must be an array of signals', doc.signals);
    else {
      const seen = new Map<string, string>();
      doc.signals.forEach((raw, i) => {
        const path = `$.signals[${i}]`;
        const item = readObject(
          raw,
          path,
          issues,
          ['id', 'name', 'description', 'severity', 'family', 'tags', 'when'],
          ['id', 'name', 'severity', 'family', 'when'],
        );
        if (!item) return;
        const id = readId(item, path, issues, seen);
        const name = readOptionalText(item, 'name', path, issues);
        const description = readOptionalText(item, 'description', path, issues);
        const severity = Object.hasOwn(item, 'severity') ? readChoice(item.severity, keyPath(path, 'severity'), issues, SIGNAL_SEVERITIES) : undefined;
        const families = Object.hasOwn(item, 'family') ? readFamilies(item.family, keyPath(path, 'family'), issues) : undefined;
        const tags = Object.hasOwn(item, 'tags') ? readStringList(item.tags, keyPath(path, 'tags'), issues, { allowEmpty: true }) : [];
        const when = readWhen(item, path, issues);
        if (id && name && severity && families && tags && when) {
          signals.push({ id, name, ...(description === undefined ? {} : { description }), severity, families, tags, when });
        }
      });
    }
  }
  issues.finish(source);
  return { version: 1, signals };
}
