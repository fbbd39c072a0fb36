// dcctl test-connection: reach an endpoint without creating a session, or say where the path breaks (SPEC 1.6, 3.4, 3.5).
import { moduleServerV1 } from '@dc/proto';
import { EXIT } from '../client/cli-error';
import { type Register } from '../context';
import { enumLabel, protoDuration, time } from '../output/output';
import { parseDuration, parseTarget, TARGET_HELP } from '../parse';
import { disconnectText, routeText } from './endpoints';

export const registerTestConnection: Register = (program, act) => {
  program
    .command('test-connection <endpoint>')
    .summary('Ping an endpoint without a session, or diagnose where the path breaks (SPEC 1.6).')
    .description(`Test a connection to an endpoint without creating a session: a ping over its control channel, or a diagnosis naming the broken step with next steps. <endpoint> is an ${TARGET_HELP}. Exits 1 when the endpoint cannot be reached.`)
    .option('--ping-timeout <duration>', 'how long to wait for the ping, up to 60s (default 5s)')
    .action(
      act<{ pingTimeout?: string }>(async (ctx, o, [target]) => {
        const res = await ctx.conn().unary(
          moduleServerV1.EndpointServiceService.testConnection,
          'SESSION_WRITE',
          moduleServerV1.TestConnectionRequest.fromPartial({ target: parseTarget(target!), timeout: o.pingTimeout ? parseDuration('--ping-timeout', o.pingTimeout) : undefined }),
        );
        const r = res.result;
        if (r?.$case !== 'online') ctx.exitCode = EXIT.FAILED;
        ctx.out.result(moduleServerV1.TestConnectionResponse.toJSON(res), () => {
          if (r?.$case === 'online') {
            const on = r.value;
            ctx.out.line(`ONLINE: ${on.hostName} (${on.clientId}) answered in ${protoDuration(on.roundTripTime)}`);
            ctx.out.fields([
              ['route', routeText(on.route)],
              ['clock skew', protoDuration(on.clockSkew)],
            ]);
            for (const w of on.warnings) ctx.out.line(`warning: ${w}`);
            return;
          }
          if (r?.$case !== 'diagnosis') {
            ctx.out.line('the module server gave neither a ping result nor a diagnosis');
            return;
          }
          const d = r.value;
          ctx.out.line(`NOT REACHABLE: ${enumLabel(moduleServerV1.DiagnosisStep, 'DIAGNOSIS_STEP_', d.step)}${d.hostName ? ` — ${d.hostName}` : ''}${d.clientId ? ` (${d.clientId})` : ''}`);
          const facts: Array<[string, string]> = [
            ['offline since', time(d.offlineSinceTime)],
            ['last seen', time(d.lastSeenTime)],
            ['last disconnect', disconnectText(d.lastDisconnect)],
            ['clock skew seen', protoDuration(d.observedClockSkew)],
            ['last route', routeText(d.lastRoute)],
            ['candidates', d.candidates.join(', ') || '-'],
          ];
          ctx.out.fields(facts.filter(([, v]) => v !== '-'));
          if (d.checks.length > 0) {
            ctx.out.line();
            ctx.out.table(
              ['CHECK', 'OUTCOME', 'DETAIL'],
              d.checks.map((c) => [c.name, enumLabel(moduleServerV1.CheckOutcome, 'CHECK_OUTCOME_', c.outcome), c.detail]),
            );
          }
          if (d.recentFailures.length > 0) {
            ctx.out.line();
            ctx.out.line('recent failures:');
            for (const f of d.recentFailures) ctx.out.line(`  ${f}`);
          }
          ctx.out.line();
          ctx.out.line('next steps:');
          for (const h of d.hints) ctx.out.line(`  - ${h}`);
          ctx.out.line('  - troubleshooting: check the endpoint is in the action group and has the latest tools (dcctl endpoints show), and that it resolves and reaches the FQDN and port 17475 (on the endpoint: recorder doctor)');
        });
      }),
    );
};
