// dcctl action-group show/set and dcctl groups list/show/create/delete: who receives Direct Connect packages (SPEC 1.4.2).
import { commonV1, settingsV1 } from '@dc/proto';
import { usageError } from '../client/cli-error';
import { type Ctx, type Register } from '../context';
import { enumLabel, enumWords, time } from '../output/output';
import { parseEnum } from '../parse';

function ruleText(r: settingsV1.ComputerGroupRule): string {
  const not = r.negate ? 'not ' : '';
  switch (r.rule?.$case) {
    case 'hostNamePattern':
      return `${not}host ${r.rule.value}`;
    case 'os':
      return `${not}os ${enumLabel(commonV1.OperatingSystem, 'OPERATING_SYSTEM_', r.rule.value)}`;
    case 'ipCidr':
      return `${not}ip ${r.rule.value}`;
    case 'tag':
      return `${not}tag ${r.rule.value}`;
    default:
      return '?';
  }
}

async function listGroups(ctx: Ctx): Promise<settingsV1.ComputerGroup[]> {
  const groups: settingsV1.ComputerGroup[] = [];
  let pageToken = '';
  do {
    const res = await ctx.conn().unary(settingsV1.ActionGroupServiceService.listComputerGroups, 'SETTINGS_READ', settingsV1.ListComputerGroupsRequest.fromPartial({ pageSize: 1000, pageToken }));
    groups.push(...res.groups);
    pageToken = res.nextPageToken;
  } while (pageToken);
  return groups;
}

/** A group by id or name. */
async function findGroup(ctx: Ctx, idOrName: string): Promise<settingsV1.ComputerGroup> {
  const groups = await listGroups(ctx);
  const found = groups.find((g) => g.computerGroupId === idOrName) ?? groups.find((g) => g.name === idOrName);
  if (!found) throw usageError(`computer group "${idOrName}": no group has this id or name`, 'dcctl groups list shows the groups');
  return found;
}

function collectRule(kind: 'host' | 'os' | 'ip' | 'tag') {
  return (value: string, previous: settingsV1.ComputerGroupRule[] = []) => {
    const negate = value.startsWith('!');
    const v = negate ? value.slice(1) : value;
    const rule: settingsV1.ComputerGroupRule['rule'] =
      kind === 'host'
        ? { $case: 'hostNamePattern', value: v }
        : kind === 'os'
          ? { $case: 'os', value: parseEnum(commonV1.OperatingSystem, 'OPERATING_SYSTEM_', '--os', v) }
          : kind === 'ip'
            ? { $case: 'ipCidr', value: v }
            : { $case: 'tag', value: v };
    return [...previous, { rule, negate }];
  };
}

function printGroup(ctx: Ctx, g: settingsV1.ComputerGroup): void {
  ctx.out.fields([
    ['id', g.computerGroupId],
    ['name', g.name],
    ['description', g.description || '-'],
    ['match', enumLabel(settingsV1.RuleMatch, 'RULE_MATCH_', g.match)],
    ['rules', g.rules.map(ruleText).join('; ')],
    ['revision', String(g.revision)],
    ['updated', time(g.updateTime)],
  ]);
}

export const registerGroups: Register = (program, act) => {
  const actionGroup = program.command('action-group').description('The action group: the endpoints that receive Direct Connect packages and sessions (SPEC 1.4.2).');

  actionGroup
    .command('show')
    .description('Show the action group\'s target.')
    .action(
      act(async (ctx) => {
        const res = await ctx.conn().unary(settingsV1.ActionGroupServiceService.getActionGroup, 'SETTINGS_READ', settingsV1.GetActionGroupRequest.fromPartial({}));
        const ag = res.actionGroup;
        let groupName = '';
        if (ag?.target === settingsV1.ActionGroupTarget.ACTION_GROUP_TARGET_COMPUTER_GROUP && !ctx.out.json) {
          groupName = (await listGroups(ctx)).find((g) => g.computerGroupId === ag.computerGroupId)?.name ?? '';
        }
        ctx.out.result(settingsV1.GetActionGroupResponse.toJSON(res), () =>
          ctx.out.fields([
            ['target', ag ? enumLabel(settingsV1.ActionGroupTarget, 'ACTION_GROUP_TARGET_', ag.target) : '-'],
            ...(ag?.computerGroupId ? ([['computer group', `${groupName || '?'} (${ag.computerGroupId})`]] as Array<[string, string]>) : []),
            ['revision', String(ag?.revision ?? 0)],
            ['updated', `${time(ag?.updateTime)}${ag?.updatedBy ? ` by ${ag.updatedBy}` : ''}`],
          ]),
        );
      }),
    );

  actionGroup
    .command('set <target> [group]')
    .description(`Set the action group: ${enumWords(settingsV1.ActionGroupTarget, 'ACTION_GROUP_TARGET_').join(' | ')} (then the group\'s id or name). Endpoints leaving it get no more packages and sessions.`)
    .action(
      act(async (ctx, _opts, args) => {
        const [targetWord, group] = args as [string, string | undefined];
        const target = parseEnum(settingsV1.ActionGroupTarget, 'ACTION_GROUP_TARGET_', '<target>', targetWord);
        let computerGroupId = '';
        if (target === settingsV1.ActionGroupTarget.ACTION_GROUP_TARGET_COMPUTER_GROUP) {
          if (!group) throw usageError('action-group set computer-group needs the group\'s id or name', 'dcctl action-group set computer-group linux-web');
          computerGroupId = (await findGroup(ctx, group)).computerGroupId;
        } else if (group) throw usageError(`action-group set ${targetWord} takes no group (got "${group}")`);
        const res = await ctx.conn().unary(settingsV1.ActionGroupServiceService.setActionGroup, 'SETTINGS_WRITE', settingsV1.SetActionGroupRequest.fromPartial({ target, computerGroupId }));
        ctx.out.result(settingsV1.SetActionGroupResponse.toJSON(res), () =>
          ctx.out.line(`action group set to ${enumLabel(settingsV1.ActionGroupTarget, 'ACTION_GROUP_TARGET_', res.actionGroup?.target ?? target)}${group ? ` ${group}` : ''} (revision ${res.actionGroup?.revision ?? '?'})`),
        );
      }),
    );

  const groups = program.command('groups').description('Computer groups: rule-based sets of endpoints an action group can target.');

  groups
    .command('list')
    .description('Computer groups by name.')
    .action(
      act(async (ctx) => {
        const list = await listGroups(ctx);
        ctx.out.result({ groups: list.map((g) => settingsV1.ComputerGroup.toJSON(g)) }, () =>
          ctx.out.table(
            ['ID', 'NAME', 'MATCH', 'RULES', 'DESCRIPTION'],
            list.map((g) => [g.computerGroupId, g.name, enumLabel(settingsV1.RuleMatch, 'RULE_MATCH_', g.match), g.rules.map(ruleText).join('; '), g.description]),
            'no computer groups: dcctl groups create --name <name> --host "web-*"',
          ),
        );
      }),
    );

  groups
    .command('show <group>')
    .description('One computer group, by id or name.')
    .action(
      act(async (ctx, _opts, [idOrName]) => {
        const g = await findGroup(ctx, idOrName!);
        ctx.out.result(settingsV1.ComputerGroup.toJSON(g), () => printGroup(ctx, g));
      }),
    );

  const ruleOptions = (cmd: ReturnType<typeof groups.command>) =>
    cmd
      .option('--host <glob>', 'rule: host name or FQDN matches this glob, e.g. "web-*" (repeatable; prefix ! to negate)', collectRule('host'))
      .option('--os <os>', 'rule: operating system windows | linux | macos (repeatable; prefix ! to negate)', collectRule('os'))
      .option('--ip <cidr>', 'rule: an IP inside this IP or CIDR, e.g. 10.1.0.0/16 (repeatable; prefix ! to negate)', collectRule('ip'))
      .option('--tag <tag>', 'rule: carries this tag (repeatable; prefix ! to negate)', collectRule('tag'))
      .option('--match <all|any>', 'combine rules: all (default) or any', 'all')
      .option('--description <text>', 'description');

  type RuleOpts = { host?: settingsV1.ComputerGroupRule[]; os?: settingsV1.ComputerGroupRule[]; ip?: settingsV1.ComputerGroupRule[]; tag?: settingsV1.ComputerGroupRule[]; match: string; description?: string };
  const rulesOf = (o: RuleOpts) => [...(o.host ?? []), ...(o.os ?? []), ...(o.ip ?? []), ...(o.tag ?? [])];

  ruleOptions(groups.command('create').description('Create a computer group from rules.').requiredOption('--name <name>', 'unique name, 1-100 characters')).action(
    act<RuleOpts & { name: string }>(async (ctx, opts) => {
      const rules = rulesOf(opts);
      if (rules.length === 0) throw usageError('a computer group needs at least one rule: --host, --os, --ip or --tag');
      const match = parseEnum(settingsV1.RuleMatch, 'RULE_MATCH_', '--match', opts.match);
      const res = await ctx.conn().unary(
        settingsV1.ActionGroupServiceService.createComputerGroup,
        'SETTINGS_WRITE',
        settingsV1.CreateComputerGroupRequest.fromPartial({ group: { name: opts.name, description: opts.description ?? '', match, rules } }),
      );
      ctx.out.result(settingsV1.CreateComputerGroupResponse.toJSON(res), () => {
        ctx.out.line(`computer group created`);
        if (res.group) printGroup(ctx, res.group);
      });
    }),
  );

  ruleOptions(groups.command('update <group>').description('Replace a group\'s rules (and optionally name and description).').option('--name <name>', 'new name')).action(
    act<RuleOpts & { name?: string }>(async (ctx, opts, [idOrName]) => {
      const current = await findGroup(ctx, idOrName!);
      const rules = rulesOf(opts);
      const match = parseEnum(settingsV1.RuleMatch, 'RULE_MATCH_', '--match', opts.match);
      const res = await ctx.conn().unary(
        settingsV1.ActionGroupServiceService.updateComputerGroup,
        'SETTINGS_WRITE',
        settingsV1.UpdateComputerGroupRequest.fromPartial({
          group: { ...current, name: opts.name ?? current.name, description: opts.description ?? current.description, match, rules: rules.length ? rules : current.rules },
        }),
      );
      ctx.out.result(settingsV1.UpdateComputerGroupResponse.toJSON(res), () => {
        ctx.out.line('computer group updated');
        if (res.group) printGroup(ctx, res.group);
      });
    }),
  );

  groups
    .command('delete <group>')
    .description('Delete a computer group (refused while it is the action group\'s target).')
    .action(
      act(async (ctx, _opts, [idOrName]) => {
        const g = await findGroup(ctx, idOrName!);
        const res = await ctx.conn().unary(settingsV1.ActionGroupServiceService.deleteComputerGroup, 'SETTINGS_WRITE', settingsV1.DeleteComputerGroupRequest.fromPartial({ computerGroupId: g.computerGroupId }));
        ctx.out.result({ ...settingsV1.DeleteComputerGroupResponse.toJSON(res) as object, computerGroupId: g.computerGroupId, deleted: true }, () => ctx.out.line(`computer group ${g.name} (${g.computerGroupId}) deleted`));
      }),
    );
};
