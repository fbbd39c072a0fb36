// A standalone Direct Connect agent process: enrols, holds the control channel and answers
// session requests from a monitor.db. Used by cross-process tests and for development until
// the recorder's own command line wires the EndpointAgent in (`npx tsx run-agent.ts --help`).
import { hostname, networkInterfaces } from 'node:os';
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { openMonitorDb, type MonitorDb } from '@dc/monitor-db';
import { commonV1 as common } from '@dc/proto';
import { runDoctor } from './doctor';
import { EndpointAgent } from './endpoint-agent';
import { IdentityStore } from './identity-store';

const o = new Command('dc-agent')
  .requiredOption('--broker <host:port>', 'broker address (FQDN:17475)')
  .requiredOption('--ca-file <file>', 'trust bundle from the package (PEM)')
  .requiredOption('--identity-dir <dir>', 'where the key and certificate live')
  .option('--token-file <file>', 'enrolment token from the package (secret)')
  .option('--server-name <name>', "name in the broker's certificate, when dialling by IP")
  .option('--monitor-db <file>', 'monitor.db to answer queries from')
  .option('--host-name <name>', 'host name to report', hostname())
  .option('--action-lock', 'report action lock on')
  .option('--doctor', 'check the connection to the broker step by step, print the steps as JSON and exit (1 if a step failed)')
  .parse()
  .opts<{ broker: string; caFile: string; identityDir: string; tokenFile?: string; serverName?: string; monitorDb?: string; hostName: string; actionLock?: boolean; doctor?: boolean }>();

const line = (level: string, obj: object, msg: string) => process.stdout.write(`${JSON.stringify({ level, time: Date.now(), ...obj, msg })}\n`);
const log = { info: (obj: object, msg: string) => line('info', obj, msg), warn: (obj: object, msg: string) => line('warn', obj, msg), debug: () => {} };

if (o.doctor) {
  void runDoctor({ brokerAddress: o.broker, serverName: o.serverName, identity: new IdentityStore(o.identityDir), caPem: readFileSync(o.caFile, 'utf8') }).then((steps) => {
    process.stdout.write(`${JSON.stringify({ steps }, null, 2)}\n`);
    process.exit(steps.some((s) => s.outcome === 'failed') ? 1 : 0);
  });
} else startAgent();

function startAgent(): void {
let db: MonitorDb | undefined;
const ips = Object.values(networkInterfaces()).flat().filter((i) => i && !i.internal).map((i) => i!.address);
const agent = new EndpointAgent({
  brokerAddress: o.broker,
  serverName: o.serverName,
  caPem: readFileSync(o.caFile, 'utf8'),
  enrolmentToken: o.tokenFile ? readFileSync(o.tokenFile, 'utf8').trim() : undefined,
  identity: new IdentityStore(o.identityDir),
  facts: () => ({
    hostName: o.hostName, ipAddresses: ips, os: common.OperatingSystem.OPERATING_SYSTEM_LINUX, osVersion: process.version, architecture: process.arch,
    toolsVersion: '0.1.0', recorderVersion: '0.1.0', actionLock: Boolean(o.actionLock),
    recorderStatus: common.RecorderStatus.fromPartial({ state: db ? common.RecorderState.RECORDER_STATE_RUNNING : common.RecorderState.RECORDER_STATE_NOT_INSTALLED }),
  }),
  handlers: {
    monitorDb: o.monitorDb ? () => (db ??= openMonitorDb({ path: o.monitorDb! })) : undefined,
    recorderStatus: () => common.RecorderStatus.fromPartial({ state: o.monitorDb ? common.RecorderState.RECORDER_STATE_RUNNING : common.RecorderState.RECORDER_STATE_NOT_INSTALLED }),
  },
  log,
});
agent.start();
line('info', { ports: {} }, 'service started');
const stop = () => {
  void agent.stop().then(() => {
    db?.close();
    process.exit(0);
  });
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
}
