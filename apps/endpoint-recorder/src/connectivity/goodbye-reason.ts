// Why `recorder connect` is leaving, for the Goodbye it sends before closing its control channel
// (gateway GoodbyeReason): a SIGTERM while the machine shuts down reads MACHINE_SHUTDOWN, so the
// broker shows the endpoint "stopped", not "offline" (SPEC §3.2); any other stop is AGENT_STOPPED.
import { execFile } from 'node:child_process';
import { platform } from 'node:os';
import { gatewayV1 as gateway } from '@dc/proto';

/** The machine's state as its service manager reports it, e.g. "running", "stopping"; '' when unknown. */
export type SystemStateProbe = () => Promise<string>;

/** Linux with systemd: `systemctl is-system-running` (it prints the state even when it exits non-zero). */
export const systemctlProbe: SystemStateProbe = () =>
  new Promise((resolve) => {
    if (platform() !== 'linux') {
      resolve('');
      return;
    }
    execFile('systemctl', ['is-system-running'], { timeout: 2000 }, (_err, stdout) => resolve(String(stdout ?? '').trim()));
  });

/** The Goodbye for a stop on a signal: MACHINE_SHUTDOWN when the system is stopping, else AGENT_STOPPED. */
export async function goodbyeOnSignal(signal: string, probe: SystemStateProbe = systemctlProbe): Promise<{ reason: gateway.GoodbyeReason; detail: string }> {
  let state = '';
  if (signal === 'SIGTERM') {
    try {
      state = await probe();
    } catch {
      state = '';
    }
  }
  if (state === 'stopping') return { reason: gateway.GoodbyeReason.GOODBYE_REASON_MACHINE_SHUTDOWN, detail: `${signal} while the system is stopping` };
  return { reason: gateway.GoodbyeReason.GOODBYE_REASON_AGENT_STOPPED, detail: `recorder connect stopped by ${signal}` };
}
