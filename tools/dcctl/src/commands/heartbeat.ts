// dcctl heartbeat show / set: the heartbeat policy (SPEC 3.1-3.3).
import { commonV1, settingsV1 } from '@dc/proto';
import { type Ctx, type Register } from '../context';
import { enumLabel, enumWords, protoDuration } from '../output/output';
import { parseDuration, parseEnum, parseIntIn } from '../parse';

function printPolicy(ctx: Ctx, p: commonV1.HeartbeatPolicy | undefined): void {
  if (!p) return;
  ctx.out.fields([
    ['interval', protoDuration(p.interval)],
    ['offline after', `${p.missedHeartbeatsBeforeOffline} missed heartbeats`],
    ['alert after', p.missedHeartbeatsBeforeAlert === undefined ? 'unlimited (never alert)' : `${p.missedHeartbeatsBeforeAlert} missed heartbeats`],
    ['direction', enumLabel(commonV1.CommunicationDirection, 'COMMUNICATION_DIRECTION_', p.direction)],
  ]);
}

export const registerHeartbeat: Register = (program, act) => {
  const hb = program.command('heartbeat').description('Heartbeat policy: interval, when an endpoint goes Offline, when an alert is raised, direction (SPEC 3).');

  hb.command('show')
    .description('Show the heartbeat policy.')
    .action(
      act(async (ctx) => {
        const res = await ctx.conn().unary(settingsV1.PolicyServiceService.getHeartbeatPolicy, 'SETTINGS_READ', settingsV1.GetHeartbeatPolicyRequest.fromPartial({}));
        ctx.out.result(settingsV1.GetHeartbeatPolicyResponse.toJSON(res), () => printPolicy(ctx, res.policy));
      }),
    );

  hb.command('set')
    .description('Change the policy; unset options keep their current value. Endpoints apply it at their next hello.')
    .option('--interval <duration>', 'time between heartbeats, 5s to 1h (default 30s)')
    .option('--offline-after <n>', 'missed heartbeats before Offline, 1-1000 (default 3)')
    .option('--alert-after <n|unlimited>', 'missed heartbeats before an alert, 1-100000, or "unlimited" for machines often shut down (SPEC 3.2)')
    .option('--direction <direction>', `communication direction: ${enumWords(commonV1.CommunicationDirection, 'COMMUNICATION_DIRECTION_').join(' | ')} (agent-initiated recommended)`)
    .action(
      act<{ interval?: string; offlineAfter?: string; alertAfter?: string; direction?: string }>(async (ctx, opts) => {
        const current = await ctx.conn().unary(settingsV1.PolicyServiceService.getHeartbeatPolicy, 'SETTINGS_READ', settingsV1.GetHeartbeatPolicyRequest.fromPartial({}));
        const policy = commonV1.HeartbeatPolicy.fromPartial({ ...current.policy });
        if (opts.interval) policy.interval = parseDuration('--interval', opts.interval);
        if (opts.offlineAfter) policy.missedHeartbeatsBeforeOffline = parseIntIn('--offline-after', opts.offlineAfter, 0, 2 ** 32 - 1);
        if (opts.alertAfter) {
          policy.missedHeartbeatsBeforeAlert = opts.alertAfter === 'unlimited' ? undefined : parseIntIn('--alert-after', opts.alertAfter, 0, 2 ** 32 - 1);
        }
        if (opts.direction) policy.direction = parseEnum(commonV1.CommunicationDirection, 'COMMUNICATION_DIRECTION_', '--direction', opts.direction);
        const res = await ctx.conn().unary(settingsV1.PolicyServiceService.updateHeartbeatPolicy, 'SETTINGS_WRITE', settingsV1.UpdateHeartbeatPolicyRequest.fromPartial({ policy }));
        ctx.out.result(settingsV1.UpdateHeartbeatPolicyResponse.toJSON(res), () => {
          ctx.out.line('heartbeat policy saved; endpoints apply it at their next hello');
          printPolicy(ctx, res.policy);
        });
      }),
    );
};
