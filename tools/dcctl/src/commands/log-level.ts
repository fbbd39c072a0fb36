// dcctl log-level show / set: log level per component, stored in settings; a change affects future logging only (SPEC 1.7.2).
import { commonV1, settingsV1 } from '@dc/proto';
import { type Register } from '../context';
import { enumLabel, enumWords } from '../output/output';
import { parseEnum } from '../parse';

const COMPONENT = (v: number) => enumLabel(commonV1.Component, 'COMPONENT_', v);
const LEVEL = (v: number) => enumLabel(commonV1.LogLevel, 'LOG_LEVEL_', v);

export const registerLogLevel: Register = (program, act) => {
  const ll = program.command('log-level').description(`Log levels: ${enumWords(commonV1.LogLevel, 'LOG_LEVEL_').join(', ')} (default info); a change affects future logging only (SPEC 1.7.2).`);
  const componentHelp = `component: ${enumWords(commonV1.Component, 'COMPONENT_').join(' | ')}`;

  ll.command('show')
    .description('Every component\'s log level, or one with --component.')
    .option('--component <name>', componentHelp)
    .action(
      act<{ component?: string }>(async (ctx, o) => {
        const component = o.component ? parseEnum(commonV1.Component, 'COMPONENT_', '--component', o.component) : undefined;
        const res = await ctx.conn().unary(settingsV1.PolicyServiceService.getLogLevels, 'SETTINGS_READ', settingsV1.GetLogLevelsRequest.fromPartial({}));
        const levels = component === undefined ? res.levels : res.levels.filter((l) => l.component === component);
        ctx.out.result(settingsV1.GetLogLevelsResponse.toJSON({ levels }), () => ctx.out.table(['COMPONENT', 'LEVEL'], levels.map((l) => [COMPONENT(l.component), LEVEL(l.level)])));
      }),
    );

  ll.command('set <level>')
    .description('Set a component\'s log level; every process of it applies it at once (settings watch), for future logging.')
    .option('--component <name>', `${componentHelp} (default module-server)`, 'module-server')
    .action(
      act<{ component: string }>(async (ctx, o, [levelWord]) => {
        const level = parseEnum(commonV1.LogLevel, 'LOG_LEVEL_', '<level>', levelWord!);
        const component = parseEnum(commonV1.Component, 'COMPONENT_', '--component', o.component);
        const res = await ctx.conn().unary(settingsV1.PolicyServiceService.setLogLevel, 'SETTINGS_WRITE', settingsV1.SetLogLevelRequest.fromPartial({ component, level }));
        ctx.out.result(settingsV1.SetLogLevelResponse.toJSON(res), () =>
          ctx.out.line(`${COMPONENT(res.level?.component ?? component)} log level set to ${LEVEL(res.level?.level ?? level)} (future logging only)`),
        );
      }),
    );
};
