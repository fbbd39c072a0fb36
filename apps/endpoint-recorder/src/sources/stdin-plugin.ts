// The audispd plugin source (SPEC 2.2): audit events arrive as text lines on stdin.
import { linesOf } from './line-splitter';

/**
 * audispd starts the plugin with events on stdin in `format = string` (SPEC 2.8): the same
 * text lines as audit.log. The stream ends when audispd closes it (auditd stopping).
 */
export function stdinLines(stdin: NodeJS.ReadableStream = process.stdin): AsyncGenerator<string[]> {
  return linesOf(stdin as AsyncIterable<Buffer>);
}
