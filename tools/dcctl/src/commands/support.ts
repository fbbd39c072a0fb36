// dcctl support download: build and download a support package ZIP with progress, written atomically (SPEC 1.7.1).
import { createHash } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { moduleServerV1 } from '@dc/proto';
import { CliError, EXIT } from '../client/cli-error';
import { type Register } from '../context';
import { bytes } from '../output/output';
import { Progress } from '../output/progress';
import { parseDuration } from '../parse';

export const registerSupport: Register = (program, act) => {
  const support = program.command('support').description('Troubleshooting: support packages (SPEC 1.7.1).');

  support
    .command('download')
    .description('Collect logs and state into a ZIP and download it; prints the file path.')
    .option('--out <dir>', 'directory to write the ZIP into', '.')
    .option('--log-window <duration>', 'logs from this far back, up to 30d (default 24h)')
    .option('--client-id <id...>', 'also fetch these endpoints\' own logs (at most 20)')
    .action(
      act<{ out: string; logWindow?: string; clientId?: string[] }>(async (ctx, o) => {
        const dir = resolve(o.out);
        mkdirSync(dir, { recursive: true });
        const progress = new Progress(ctx.io.stderr);
        let header: moduleServerV1.SupportPackageHeader | undefined;
        let tmp: string | undefined;
        let fd: number | undefined;
        let written = 0;
        const hash = createHash('sha256');
        try {
          await ctx.conn().stream(
            moduleServerV1.AdminServiceService.downloadSupportPackage,
            'LOGS_READ',
            moduleServerV1.DownloadSupportPackageRequest.fromPartial({
              logWindow: o.logWindow ? parseDuration('--log-window', o.logWindow) : undefined,
              clientIds: o.clientId ?? [],
            }),
            (msg) => {
              const part = msg.part;
              if (part?.$case === 'progress') {
                progress.update(part.value.phase || 'building', part.value.percent);
              } else if (part?.$case === 'header') {
                header = part.value;
                const name = basename(header.fileName || 'dc-support.zip');
                tmp = join(dir, `.${name}.${process.pid}.part`);
                fd = openSync(tmp, 'w', 0o600);
              } else if (part?.$case === 'chunk') {
                if (fd === undefined || !header) throw new CliError('the server sent file data before the file header', EXIT.FAILED);
                if (part.value.offset !== written) throw new CliError(`the server sent a chunk at offset ${part.value.offset}, expected ${written}`, EXIT.FAILED, 'download again');
                writeSync(fd, part.value.data);
                hash.update(part.value.data);
                written += part.value.data.length;
                progress.update(`downloading ${bytes(written)} of ${bytes(header.totalSizeBytes)}`, header.totalSizeBytes ? (written / header.totalSizeBytes) * 100 : 100);
              }
            },
            { timeoutMs: 30 * 60_000 },
          );
          progress.done();
          if (!header || fd === undefined || !tmp) throw new CliError('the server ended the download without sending a file', EXIT.FAILED, 'download again; if it persists, check the module server log');
          if (written !== header.totalSizeBytes) throw new CliError(`download incomplete: ${written} of ${header.totalSizeBytes} bytes`, EXIT.FAILED, 'download again');
          const digest = hash.digest('hex');
          if (header.sha256 && digest !== header.sha256.toLowerCase()) throw new CliError(`download corrupt: SHA-256 ${digest} but the server announced ${header.sha256}`, EXIT.FAILED, 'download again');
          fsyncSync(fd);
          closeSync(fd);
          fd = undefined;
          const finalPath = join(dir, basename(header.fileName || 'dc-support.zip'));
          renameSync(tmp, finalPath);
          tmp = undefined;
          ctx.out.result({ path: finalPath, fileName: header.fileName, sizeBytes: written, sha256: digest }, () => {
            ctx.out.line(finalPath);
            ctx.out.note(`support package saved (${bytes(written)}, sha256 ${digest})`);
          });
        } finally {
          progress.done();
          if (fd !== undefined) closeSync(fd);
          if (tmp) rmSync(tmp, { force: true });
        }
      }),
    );
};
