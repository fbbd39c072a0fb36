// dcctl uninstall: remove the tools from endpoints (a Remove Tools action per OS), then the server data, after confirmation (SPEC 1.7.4).
import { createInterface } from 'node:readline';
import { commonV1, moduleServerV1 } from '@dc/proto';
import { CliError, EXIT, usageError } from '../client/cli-error';
import { type Ctx, type Register } from '../context';
import { enumLabel, time } from '../output/output';
import { parseDuration, parseDurationSeconds } from '../parse';

export const CONFIRMATION = 'UNINSTALL DIRECT CONNECT';
const PHASE = (v: number) => enumLabel(moduleServerV1.UninstallPhase, 'UNINSTALL_PHASE_', v);

function printStatus(ctx: Ctx, s: moduleServerV1.UninstallStatus | undefined): void {
  if (!s) return;
  ctx.out.fields([
    ['phase', PHASE(s.phase)],
    ['started', time(s.startTime)],
    ['finished', time(s.finishTime)],
    ['detail', s.detail || '-'],
  ]);
  ctx.out.table(
    ['OS', 'TARGETED', 'SUCCEEDED', 'FAILED', 'PENDING'],
    s.endpoints.map((e) => [enumLabel(commonV1.OperatingSystem, 'OPERATING_SYSTEM_', e.os), String(e.targeted), String(e.succeeded), String(e.failed), String(e.pending)]),
    'no endpoint reports the package installed',
  );
  for (const w of s.warnings) ctx.out.line(`warning: ${w}`);
}

async function ask(ctx: Ctx, question: string): Promise<string> {
  const rl = createInterface({ input: ctx.io.stdin, output: ctx.io.stderr });
  try {
    return await new Promise<string>((res) => rl.question(question, res));
  } finally {
    rl.close();
  }
}

export const registerUninstall: Register = (program, act) => {
  const un = program
    .command('uninstall')
    .summary('Remove the tools from endpoints per OS, then the server data (SPEC 1.7.4).')
    .description(`Uninstall Direct Connect: first a Remove Tools action per OS to every endpoint reporting the package installed, then the server data. Other modules depend on Direct Connect. Asks you to type "${CONFIRMATION}" (or pass it with --confirm).`)
    .option('--dry-run', 'only show the plan (endpoints per OS, dependent modules); change nothing')
    .option('--confirm <phrase>', `the exact phrase "${CONFIRMATION}", for scripts`)
    .option('--endpoint-timeout <duration>', 'give up waiting for endpoints after this and remove the server data anyway (default 24h)')
    .option('--remove-recorder-data', "also delete each endpoint's recorder data (monitor.db and the recorder configuration), not only the Direct Connect tools")
    .option('--no-wait', 'start it and return; follow with dcctl uninstall status')
    .option('--poll <duration>', 'how often to check progress while waiting', '2s');

  un.action(
    act<{ dryRun?: boolean; confirm?: string; endpointTimeout?: string; removeRecorderData?: boolean; wait: boolean; poll: string }>(async (ctx, o) => {
      const endpointTimeout = o.endpointTimeout ? parseDuration('--endpoint-timeout', o.endpointTimeout) : undefined;
      const removeRecorderData = o.removeRecorderData === true;
      // Refuse a bad command line before asking the server anything.
      if (!o.dryRun && o.confirm !== undefined && o.confirm !== CONFIRMATION) throw usageError(`--confirm "${o.confirm}": must be exactly "${CONFIRMATION}"; nothing was changed`);
      if (!o.dryRun && o.confirm === undefined && !ctx.io.stdin.isTTY) throw usageError(`uninstall needs confirmation: pass --confirm "${CONFIRMATION}" (stdin is not a terminal)`);
      const plan = await ctx.conn().unary(
        moduleServerV1.AdminServiceService.uninstall,
        'SETTINGS_WRITE',
        moduleServerV1.UninstallRequest.fromPartial({ confirmation: CONFIRMATION, dryRun: true, endpointTimeout, removeRecorderData }),
      );
      if (o.dryRun) {
        ctx.out.result(moduleServerV1.UninstallResponse.toJSON(plan), () => {
          ctx.out.line('uninstall plan (nothing changed):');
          printStatus(ctx, plan.status);
        });
        return;
      }
      if (!ctx.out.json) {
        ctx.out.line('uninstall plan:');
        printStatus(ctx, plan.status);
        ctx.out.line();
      }
      ctx.out.note('WARNING: other modules (Performance, Protect, Reveal, Trace, ...) depend on Direct Connect; they lose their endpoint sessions.');
      if (removeRecorderData) ctx.out.note("WARNING: --remove-recorder-data deletes each endpoint's monitor.db: its recorded history is lost.");
      let phrase = o.confirm;
      if (phrase === undefined) phrase = (await ask(ctx, `Type "${CONFIRMATION}" to continue: `)).trim();
      if (phrase !== CONFIRMATION) throw new CliError(`confirmation does not match "${CONFIRMATION}": nothing was changed`, EXIT.FAILED);
      const started = await ctx.conn().unary(
        moduleServerV1.AdminServiceService.uninstall,
        'SETTINGS_WRITE',
        moduleServerV1.UninstallRequest.fromPartial({ confirmation: phrase, dryRun: false, endpointTimeout, removeRecorderData }),
      );
      let status = started.status;
      if (o.wait) {
        const pollMs = parseDurationSeconds('--poll', o.poll) * 1000;
        let lastPhase = -1;
        while (status && status.phase !== moduleServerV1.UninstallPhase.UNINSTALL_PHASE_DONE && status.phase !== moduleServerV1.UninstallPhase.UNINSTALL_PHASE_FAILED) {
          if (status.phase !== lastPhase) {
            ctx.out.note(`uninstall: ${PHASE(status.phase)}`);
            lastPhase = status.phase;
          }
          await new Promise((r) => setTimeout(r, pollMs));
          status = (await ctx.conn().unary(moduleServerV1.AdminServiceService.getUninstallStatus, 'SETTINGS_READ', moduleServerV1.GetUninstallStatusRequest.fromPartial({}))).status;
        }
      }
      if (status?.phase === moduleServerV1.UninstallPhase.UNINSTALL_PHASE_FAILED) ctx.exitCode = EXIT.FAILED;
      ctx.out.result(moduleServerV1.UninstallResponse.toJSON({ status }), () => printStatus(ctx, status));
    }),
  );

  un.command('status')
    .description('Progress of an uninstall.')
    .action(
      act(async (ctx) => {
        const res = await ctx.conn().unary(moduleServerV1.AdminServiceService.getUninstallStatus, 'SETTINGS_READ', moduleServerV1.GetUninstallStatusRequest.fromPartial({}));
        ctx.out.result(moduleServerV1.GetUninstallStatusResponse.toJSON(res), () =>
          !res.status || res.status.phase === moduleServerV1.UninstallPhase.UNINSTALL_PHASE_UNSPECIFIED ? ctx.out.line('no uninstall was started') : printStatus(ctx, res.status),
        );
      }),
    );
};
