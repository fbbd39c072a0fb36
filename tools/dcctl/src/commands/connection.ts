// dcctl connection show / set / builds: endpoint connection settings and content builds (SPEC 1.4.4).
import { basename, join, resolve } from 'node:path';
import { commonV1, settingsV1 } from '@dc/proto';
import { writeFileAtomic } from '@dc/service-kit';
import { type Ctx, type Register } from '../context';
import { bytes, enumLabel, enumWords, time } from '../output/output';
import { parseEnum } from '../parse';

const LOCK = (v: number) => enumLabel(commonV1.ActionLockMode, 'ACTION_LOCK_MODE_', v);

function printBuild(ctx: Ctx, b: settingsV1.ContentBuild | undefined): void {
  if (!b) {
    ctx.out.line('content build: none yet');
    return;
  }
  ctx.out.fields([
    ['content build', `${b.buildId} (revision ${b.revision})`],
    ['state', enumLabel(settingsV1.ContentBuildState, 'CONTENT_BUILD_STATE_', b.state)],
    ['started', time(b.startTime)],
    ['finished', time(b.finishTime)],
    ['reason', b.reason || '-'],
    ...(b.error ? ([['error', b.error]] as Array<[string, string]>) : []),
  ]);
  if (b.packages.length > 0) {
    ctx.out.table(
      ['OS', 'PACKAGE', 'SIZE', 'SHA-256'],
      b.packages.map((p) => [enumLabel(commonV1.OperatingSystem, 'OPERATING_SYSTEM_', p.os), p.fileName, bytes(p.sizeBytes), p.sha256]),
    );
  }
}

export const registerConnection: Register = (program, act) => {
  const connection = program.command('connection').description('Endpoint connection settings: the FQDN endpoints use, port 17475 (fixed), action lock behaviour (SPEC 1.4.4).');

  connection
    .command('show')
    .description('Show the connection settings and the latest content build.')
    .action(
      act(async (ctx) => {
        const res = await ctx.conn().unary(settingsV1.ConnectionSettingsServiceService.getConnectionSettings, 'SETTINGS_READ', settingsV1.GetConnectionSettingsRequest.fromPartial({}));
        ctx.out.result(settingsV1.GetConnectionSettingsResponse.toJSON(res), () => {
          const s = res.settings;
          ctx.out.fields([
            ['fqdn', s?.fqdn || '(not set: dcctl connection set --fqdn <name>)'],
            ['port', `${s?.port || 17475} (fixed)`],
            ['action lock', s ? LOCK(s.actionLockMode) : '-'],
            ['revision', String(s?.revision ?? 0)],
            ['updated', `${time(s?.updateTime)}${s?.updatedBy ? ` by ${s.updatedBy}` : ''}`],
          ]);
          ctx.out.line();
          printBuild(ctx, res.latestBuild);
        });
      }),
    );

  connection
    .command('set')
    .description('Save the connection settings; the FQDN is validated and a content build starts (one package per OS).')
    .requiredOption('--fqdn <name>', 'FQDN or IP address endpoints use to reach the Module Server')
    .option('--action-lock <mode>', `what endpoints with action lock on allow: ${enumWords(commonV1.ActionLockMode, 'ACTION_LOCK_MODE_').join(' | ')} (default: keep the current one)`)
    .option('--skip-resolution-check', 'do not check that the FQDN resolves from the settings host (e.g. it resolves only on the endpoints\' network)')
    .action(
      act<{ fqdn: string; actionLock?: string; skipResolutionCheck?: boolean }>(async (ctx, opts) => {
        let actionLockMode = opts.actionLock ? parseEnum(commonV1.ActionLockMode, 'ACTION_LOCK_MODE_', '--action-lock', opts.actionLock) : undefined;
        if (actionLockMode === undefined) {
          const current = await ctx.conn().unary(settingsV1.ConnectionSettingsServiceService.getConnectionSettings, 'SETTINGS_READ', settingsV1.GetConnectionSettingsRequest.fromPartial({}));
          actionLockMode = current.settings?.actionLockMode || commonV1.ActionLockMode.ACTION_LOCK_MODE_BLOCK_ALL;
        }
        const res = await ctx.conn().unary(
          settingsV1.ConnectionSettingsServiceService.updateConnectionSettings,
          'SETTINGS_WRITE',
          settingsV1.UpdateConnectionSettingsRequest.fromPartial({ fqdn: opts.fqdn, port: 17475, actionLockMode, skipResolutionCheck: Boolean(opts.skipResolutionCheck) }),
        );
        ctx.out.result(settingsV1.UpdateConnectionSettingsResponse.toJSON(res), () => {
          for (const m of res.messages) ctx.out.line(m);
          ctx.out.line();
          ctx.out.fields([
            ['fqdn', res.settings?.fqdn ?? opts.fqdn],
            ['port', `${res.settings?.port || 17475} (fixed)`],
            ['action lock', LOCK(res.settings?.actionLockMode ?? actionLockMode)],
          ]);
          if (res.contentBuild) ctx.out.line(`content build ${res.contentBuild.buildId}: ${enumLabel(settingsV1.ContentBuildState, 'CONTENT_BUILD_STATE_', res.contentBuild.state)} (follow with: dcctl connection builds)`);
        });
      }),
    );

  connection
    .command('package')
    .description('Download the endpoint package for one OS from a content build: the file a fresh endpoint is installed with (it holds the enrolment token: written with mode 0600).')
    .requiredOption('--os <os>', `operating system: ${enumWords(commonV1.OperatingSystem, 'OPERATING_SYSTEM_').join(' | ')}`)
    .option('--build <id>', 'content build id (default: the latest successful one)')
    .option('--out <dir>', 'directory to write the package into', '.')
    .action(
      act<{ os: string; build?: string; out: string }>(async (ctx, o) => {
        const os = parseEnum(commonV1.OperatingSystem, 'OPERATING_SYSTEM_', '--os', o.os);
        const res = await ctx.conn().unary(settingsV1.ConnectionSettingsServiceService.getEndpointPackage, 'SETTINGS_WRITE', settingsV1.GetEndpointPackageRequest.fromPartial({ os, buildId: o.build ?? '' }));
        const name = basename(res.summary?.fileName || `direct-connect-${o.os}.zip`);
        const path = join(resolve(o.out), name);
        writeFileAtomic(path, res.content);
        const summary = res.summary ? (settingsV1.PackageSummary.toJSON(res.summary) as object) : {};
        ctx.out.result({ path, buildId: res.buildId, summary }, () => {
          ctx.out.line(path);
          ctx.out.note(`endpoint package of build ${res.buildId} (revision ${res.configuration?.revision ?? '?'}, ${bytes(res.content.length)}); it holds an enrolment token: keep it private`);
        });
      }),
    );

  connection
    .command('builds')
    .description('Content builds, newest first (one endpoint package per OS each).')
    .option('--limit <n>', 'at most this many', '20')
    .action(
      act<{ limit: string }>(async (ctx, opts) => {
        const res = await ctx.conn().unary(settingsV1.ConnectionSettingsServiceService.listContentBuilds, 'SETTINGS_READ', settingsV1.ListContentBuildsRequest.fromPartial({ pageSize: Number(opts.limit) || 20 }));
        ctx.out.result(settingsV1.ListContentBuildsResponse.toJSON(res), () =>
          ctx.out.table(
            ['BUILD', 'REVISION', 'STATE', 'STARTED', 'FINISHED', 'PACKAGES', 'REASON'],
            res.builds.map((b) => [
              b.buildId,
              String(b.revision),
              enumLabel(settingsV1.ContentBuildState, 'CONTENT_BUILD_STATE_', b.state),
              time(b.startTime),
              time(b.finishTime),
              b.packages.map((p) => enumLabel(commonV1.OperatingSystem, 'OPERATING_SYSTEM_', p.os)).join(',') || '-',
              b.error ? `${b.reason} (error: ${b.error})` : b.reason,
            ]),
            'no content builds yet: dcctl connection set --fqdn <name> starts one',
          ),
        );
      }),
    );
};
