// dc-audit: reads an audit log (file or stdin) and prints interpreted events (jsonl or table).
import { createReadStream } from 'node:fs';
import { Command, Option } from 'commander';
import { runDcAudit } from './run';
import type { DcAuditInput } from './run';

const program = new Command()
  .name('dc-audit')
  .description('Print interpreted Linux audit events (process, file, network, security) from an audit log')
  .argument('[files...]', 'audit logs to read in turn; "-" or nothing reads stdin')
  .addOption(new Option('--format <format>', 'output format').choices(['jsonl', 'table']).default('jsonl'))
  .option('--summary', 'print counts per event kind and the malformed-line report instead of events')
  .option('--json', 'with --summary: print the summary as one JSON object')
  .option('--raw', 'with --format jsonl: include the raw records of each event')
  .action(async (files: string[], opts: { format: 'jsonl' | 'table'; summary?: boolean; json?: boolean; raw?: boolean }) => {
    const inputs: DcAuditInput[] = (files.length === 0 ? ['-'] : files).map((file) => ({
      name: file === '-' ? 'stdin' : file,
      open: () => {
        const stream = file === '-' ? process.stdin : createReadStream(file);
        stream.on('error', (err: Error) => {
          process.stderr.write(`dc-audit: cannot read ${file === '-' ? 'stdin' : file}: ${err.message}\n`);
          process.exit(2);
        });
        return stream;
      },
    }));
    const code = await runDcAudit(inputs, process.stdout, {
      format: opts.format,
      summary: opts.summary === true,
      json: opts.json === true,
      raw: opts.raw === true,
    });
    process.exitCode = code;
  });

program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`dc-audit: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(2);
});
