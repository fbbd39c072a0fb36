// dcctl recorder status / start / stop / recreate: the endpoint recorder on one endpoint, through a session (SPEC 2.4, 2.10.2).
import { commonV1, moduleServerV1, type sessionV1 } from '@dc/proto';
import { usageError } from '../client/cli-error';
import { type Ctx, type Register } from '../context';
import { bytes, enumLabel, time } from '../output/output';
import { parseDurationSeconds, TARGET_HELP } from '../parse';
import { recorderText } from './endpoints';
import { closeSessionQuietly, openSessionFor } from './sessions';

function printStatus(ctx: Ctx, s: commonV1.RecorderStatus | undefined): void {
  if (!s) return;
  ctx.out.fields([
    ['recorder', recorderText(s)],
    ['detail', s.detail || '-'],
    ['version', s.recorderVersion || '-'],
    ['started', time(s.startedTime)],
    ['monitor.db', `${bytes(s.databaseSizeBytes)} of ${s.databaseLimitBytes ? bytes(s.databaseLimitBytes) : 'unlimited'}${s.databaseCorrupt ? ' — CORRUPT: dcctl recorder recreate' : ''}`],
    ['oldest event', time(s.oldestEventTime)],
    ['last cleanup', time(s.lastCleanupTime)],
    ['dropped events', String(s.droppedEvents)],
    ['restart required', s.restartRequired ? 'yes (audit rules immutable until reboot)' : 'no'],
  ]);
  if (s.eventsPerFamily.length > 0) {
    ctx.out.table(
      ['FAMILY', 'EVENTS', 'ENABLED'],
      s.eventsPerFamily.map((f) => [enumLabel(commonV1.EventFamily, 'EVENT_FAMILY_', f.family), String(f.events), f.enabled ? 'yes' : 'no']),
    );
  }
}

interface SessionOpts {
  session?: string;
  openTimeout: string;
}

/** Runs `work` on --session, or on a session dcctl opens to the endpoint and closes afterwards. */
async function withSession<T>(ctx: Ctx, target: string | undefined, o: SessionOpts, work: (sessionId: string) => Promise<T>): Promise<T> {
  if (o.session) return work(o.session);
  if (!target) throw usageError('name the endpoint, or give an open session with --session <id>', `<endpoint> is an ${TARGET_HELP}`);
  const s = await openSessionFor(ctx, target, 'dcctl', parseDurationSeconds('--open-timeout', o.openTimeout));
  try {
    return await work(s.sessionId);
  } finally {
    await closeSessionQuietly(ctx, s.sessionId, 'dcctl recorder command done');
  }
}

export const registerRecorder: Register = (program, act) => {
  const recorder = program.command('recorder').summary('Recorder status / start / stop / recreate on one endpoint (SPEC 2.4).').description(`The endpoint recorder on one endpoint, over a session dcctl opens and closes (or --session). <endpoint> is an ${TARGET_HELP}.`);
  const common = (cmd: ReturnType<typeof recorder.command>) =>
    cmd.option('--session <id>', 'use this open session instead of opening one').option('--open-timeout <duration>', 'how long to wait for the session to open', '60s');

  common(recorder.command('status [endpoint]').description('The recorder\'s live status from the endpoint.')).action(
    act<SessionOpts>(async (ctx, o, [target]) => {
      const res = await withSession(ctx, target, o, (sessionId) =>
        ctx.conn().unary(moduleServerV1.SessionServiceService.getRecorderStatus, 'SESSION_WRITE', moduleServerV1.GetRecorderStatusRequest.fromPartial({ sessionId })),
      );
      ctx.out.result(moduleServerV1.GetRecorderStatusResponse.toJSON(res), () => printStatus(ctx, res.status));
    }),
  );

  common(recorder.command('start [endpoint]').description('Start the recorder (SPEC 2.4).').option('--reason <text>', 'recorded with the change')).action(
    act<SessionOpts & { reason?: string }>(async (ctx, o, [target]) => {
      const res = await withSession(ctx, target, o, (sessionId) =>
        ctx.conn().unary(moduleServerV1.SessionServiceService.startRecorder, 'SESSION_WRITE', moduleServerV1.StartRecorderRequest.fromPartial({ sessionId, reason: o.reason ?? '' })),
      );
      ctx.out.result(moduleServerV1.StartRecorderResponse.toJSON(res), () => printStatus(ctx, res.status));
    }),
  );

  common(recorder.command('stop [endpoint]').description('Stop the recorder; it stays stopped until started (SPEC 2.4).').option('--reason <text>', 'recorded with the change')).action(
    act<SessionOpts & { reason?: string }>(async (ctx, o, [target]) => {
      const res = await withSession(ctx, target, o, (sessionId) =>
        ctx.conn().unary(moduleServerV1.SessionServiceService.stopRecorder, 'SESSION_WRITE', moduleServerV1.StopRecorderRequest.fromPartial({ sessionId, reason: o.reason ?? '' })),
      );
      ctx.out.result(moduleServerV1.StopRecorderResponse.toJSON(res), () => printStatus(ctx, res.status));
    }),
  );

  common(recorder.command('recreate [endpoint]').description('Wipe and recreate monitor.db (SPEC 2.10.2): destroys the recorded history.').option('--yes', 'confirm: the recorded history is destroyed')).action(
    act<SessionOpts & { yes?: boolean }>(async (ctx, o, [target]) => {
      if (!o.yes) throw usageError('recreating monitor.db destroys the endpoint\'s recorded history: add --yes to confirm');
      const res = await withSession(ctx, target, o, (sessionId) =>
        ctx.conn().unary(moduleServerV1.SessionServiceService.recreateDatabase, 'SESSION_WRITE', moduleServerV1.RecreateDatabaseRequest.fromPartial({ sessionId, confirm: true })),
      );
      ctx.out.result(moduleServerV1.RecreateDatabaseResponse.toJSON(res), () => {
        const r: sessionV1.DatabaseRecreationResult | undefined = res.result;
        ctx.out.line(`monitor.db recreated (${bytes(r?.removedSizeBytes ?? 0)} removed)`);
        printStatus(ctx, r?.status);
      });
    }),
  );
};
