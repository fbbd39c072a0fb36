// Public entry to parse a lone condition (e.g. an ad-hoc query filter typed by an operator).
import type { Condition } from '../model';
import { IssueList, readJson } from '../validation/reader';
import { parseCondition } from './parse-condition';

/**
 * Parses one condition (JSON text or a value already parsed), e.g. `{"field":"exe","endsWith":"/cron"}`.
 * @throws FilterValidationError listing every problem with its JSON path (root `$`)
 */
export function parseConditionJson(input: unknown, source = 'condition'): Condition {
  const issues = new IssueList();
  const json = readJson(input, issues);
  issues.finish(source);
  const condition = parseCondition(json, '$', issues);
  issues.finish(source);
  return condition as Condition;
}
