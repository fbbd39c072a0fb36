// dcctl setup status / setup apply / info: which configuration steps are done (SPEC 1.4.1) and the installed version (SPEC 1.4.7).
import { writeFileSync } from 'node:fs';
import { commonV1, moduleServerV1, settingsV1 } from '@dc/proto';
import { type Ctx, type Register } from '../context';
import { enumLabel, enumWords, time } from '../output/output';
import { parseEnum } from '../parse';

function printStatus(ctx: Ctx, s: settingsV1.GetSetupStatusResponse | undefined): void {
  if (!s) return;
  ctx.out.fields([
    ['set-up', s.complete ? 'complete' : 'not complete'],
    ['mode', enumLabel(settingsV1.SetupMode, 'SETUP_MODE_', s.mode) === '-' ? 'not applied yet' : enumLabel(settingsV1.SetupMode, 'SETUP_MODE_', s.mode)],
    ['applied', time(s.applyTime)],
  ]);
  ctx.out.line();
  ctx.out.table(
    ['STEP', 'DONE', 'DETAIL'],
    s.steps.map((st) => [st.name, st.done ? 'yes' : 'NO', st.detail || '']),
  );
}

/** Next step per unfinished step name (settings SetupStep.name). */
const NEXT: Record<string, string> = {
  'service account': 'dcctl service-account set --name svc-direct-connect',
  'connection settings': 'dcctl connection set --fqdn <name endpoints use>',
  'server certificate': 'dcctl certificates renew-server',
  'content build': 'dcctl connection set ... (a save starts a content build)',
  'action group': 'dcctl action-group set all-computers',
};

export const registerSetup: Register = (program, act) => {
  const setup = program.command('setup').description('Set-up status and modes (SPEC 1.4.1).');

  setup
    .command('status')
    .description('Show which configuration steps are done and what is missing.')
    .action(
      act(async (ctx) => {
        const res = await ctx.conn().unary(settingsV1.SetupServiceService.getSetupStatus, 'SETTINGS_READ', settingsV1.GetSetupStatusRequest.fromPartial({}));
        ctx.out.result(settingsV1.GetSetupStatusResponse.toJSON(res), () => {
          printStatus(ctx, res);
          const todo = res.steps.filter((s) => !s.done);
          if (todo.length > 0) {
            ctx.out.line();
            ctx.out.line('next:');
            for (const s of todo) ctx.out.line(`  ${s.name}: ${NEXT[s.name] ?? 'see the detail above'}`);
          }
        });
      }),
    );

  setup
    .command('apply')
    .description('Run set-up: "default" (service account = your account, action group = All Computers) or "custom" (action group = No Computers; you configure the rest).')
    .requiredOption('--mode <mode>', `set-up mode: ${enumWords(settingsV1.SetupMode, 'SETUP_MODE_').join(' | ')}`)
    .option('--service-token-out <file>', 'write the service account token (default mode, shown once) to this file, mode 0600, instead of printing it')
    .action(
      act<{ mode: string; serviceTokenOut?: string }>(async (ctx, opts) => {
        const mode = parseEnum(settingsV1.SetupMode, 'SETUP_MODE_', '--mode', opts.mode);
        const res = await ctx.conn().unary(settingsV1.SetupServiceService.applySetup, 'SETTINGS_WRITE', settingsV1.ApplySetupRequest.fromPartial({ mode }));
        if (opts.serviceTokenOut && res.serviceAccountToken) writeFileSync(opts.serviceTokenOut, `${res.serviceAccountToken}\n`, { mode: 0o600 });
        const json = settingsV1.ApplySetupResponse.toJSON(res) as Record<string, unknown>;
        if (opts.serviceTokenOut) delete json.serviceAccountToken;
        ctx.out.result(json, () => {
          printStatus(ctx, res.status);
          if (res.serviceAccount) {
            ctx.out.line();
            ctx.out.line(`service account: ${res.serviceAccount.name} (${res.serviceAccount.principalId})`);
            if (opts.serviceTokenOut) ctx.out.line(`service account token written to ${opts.serviceTokenOut} (mode 0600)`);
            else if (res.serviceAccountToken) ctx.out.line(`service account token (shown once; give it to the services as DC_SERVICE_TOKEN): ${res.serviceAccountToken}`);
          }
        });
      }),
    );

  program
    .command('info')
    .description('Installed version and service information (SPEC 1.4.7 Info).')
    .action(
      act(async (ctx) => {
        const res = await ctx.conn().unary(moduleServerV1.AdminServiceService.getInfo, 'SHOW_DIRECT_CONNECT', moduleServerV1.GetInfoRequest.fromPartial({}));
        ctx.out.result(moduleServerV1.GetInfoResponse.toJSON(res), () => {
          ctx.out.fields([
            ['version', res.version],
            ['git commit', res.gitCommit || '-'],
            ['built', time(res.buildTime)],
            ['started', time(res.startTime)],
            ['fqdn', res.fqdn || '(not set: dcctl connection set --fqdn ...)'],
            ['gateway port', String(res.gatewayPort)],
            ['api port', String(res.apiPort)],
            ['endpoints', `${res.endpointsOnline} online, ${res.endpointsOffline} offline`],
            ['sessions open', String(res.sessionsOpen)],
            ['zone proxies connected', String(res.zoneProxiesConnected)],
          ]);
          if (res.dependencies.length > 0) {
            ctx.out.line();
            ctx.out.table(
              ['DEPENDENCY', 'ADDRESS', 'REACHABLE', 'VERSION', 'DETAIL'],
              res.dependencies.map((d) => [enumLabel(commonV1.Component, 'COMPONENT_', d.component), d.address, d.reachable ? 'yes' : 'NO', d.version || '-', d.detail]),
            );
          }
        });
      }),
    );
};
