// `npm start`: the whole system on this machine — cert-authority, settings, module-server, a zone
// proxy and two endpoint recorders (one direct, one behind the zone proxy), each replaying a
// sample audit log — every app a process on 127.0.0.1 with its data under ./data/<app>. The first
// run bootstraps (root CA, administrator token, default set-up, FQDN, zone proxy added and provisioned);
// a second run reuses the data. Prints the ports and the dcctl commands to try; Ctrl-C stops
// everything cleanly (exit 0). The topology itself is tools/dev/topology.mjs (shared with e2e).
//
//   npm start [-- --verbose] [-- --ephemeral-ports]     DC_DATA_ROOT=<dir> moves ./data;
//   DC_START_ZONE_WAIT_SECONDS (default 30): how long to wait for the zone proxy link before going on
import { join, relative } from 'node:path';
import { allocatePorts, RECORDERS, Topology, workspaceRoot } from './topology.mjs';

const argv = process.argv.slice(2);
const known = new Set(['--verbose', '--ephemeral-ports', '--help', '-h']);
for (const a of argv) {
  if (!known.has(a)) {
    console.error(`start: unknown option "${a}" (known: --verbose, --ephemeral-ports, --help)`);
    process.exit(2);
  }
}
if (argv.includes('--help') || argv.includes('-h')) {
  console.log('Usage: npm start [-- --verbose] [-- --ephemeral-ports]\n\nRuns the whole Direct Connect topology on 127.0.0.1 with its data under ./data (DC_DATA_ROOT to move it).\n  --verbose          show every log line\n  --ephemeral-ports  let the OS choose free ports instead of the documented ones');
  process.exit(0);
}
const verbose = argv.includes('--verbose');
const dataRoot = process.env.DC_DATA_ROOT ?? join(workspaceRoot, 'data');
const LEVELS = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };

const ports = await allocatePorts(argv.includes('--ephemeral-ports') ? 'ephemeral' : 'default');
let stopping = false;
const zoneWait = Number(process.env.DC_START_ZONE_WAIT_SECONDS ?? 30);
const topology = new Topology({
  dataRoot,
  ports,
  zoneConnectTimeoutMs: (Number.isFinite(zoneWait) && zoneWait >= 0 ? zoneWait : 30) * 1000,
  onLine(app, rec, isStderr) {
    const level = typeof rec.level === 'number' ? LEVELS[rec.level] : rec.level;
    if (verbose || isStderr || level === 'warn' || level === 'error' || level === 'fatal') {
      const extra = rec.err ? `: ${typeof rec.err === 'string' ? rec.err : rec.err.message ?? JSON.stringify(rec.err)}` : '';
      console.log(`[${app}] ${isStderr ? '' : `${level} `}${rec.msg}${extra}`);
    }
  },
  onUnexpectedExit(app, code, signal) {
    if (stopping) return;
    console.error(`start: ${app} exited unexpectedly (${code ?? signal}); stopping everything`);
    void stopAll(1);
  },
});

async function stopAll(exitCode) {
  if (stopping) return;
  stopping = true;
  console.log('\nstopping…');
  const codes = await topology.stop();
  for (const [name, code] of Object.entries(codes)) console.log(`  ${name} stopped (${code})`);
  process.exit(exitCode);
}
process.on('SIGINT', () => void stopAll(0));
// The apps run in their own process groups: never leave one behind, whatever ends this process.
process.on('exit', () => topology.killAllNow());
process.on('SIGTERM', () => void stopAll(0));

console.log(`Direct Connect: starting on 127.0.0.1, data under ${dataRoot}`);
try {
  await topology.start();
} catch (err) {
  console.error(`start: ${err.message}`);
  await stopAll(1);
}
if (!stopping) {
  const rel = (p) => {
    const r = relative(process.cwd(), p);
    return r.startsWith('..') ? p : r;
  };
  console.log('\nfirst-run set-up:');
  for (const [step, state] of Object.entries(topology.bootstrap)) console.log(`  ${step.padEnd(40)} ${state}`);
  console.log(`  ${'zone proxy link'.padEnd(40)} ${topology.zoneProxyConnected ? 'Connected' : 'not connected yet (the module server keeps trying; `dcctl zone-proxies list`)'}`);
  console.log('\nrunning:');
  for (const [name, text] of topology.summary()) console.log(`  ${name.padEnd(16)} ${text}`);
  console.log(`\nlogs: ${rel(topology.logDir)}/<app>.log   administrator token: ${rel(topology.adminTokenFile)}`);
  console.log('\nnext, try:');
  console.log(`  alias dcctl='node ${rel(join(workspaceRoot, 'tools', 'dcctl', 'dist', 'main.cjs'))} ${topology.dcctlGlobalArgs().map((a) => (a.includes('/') ? rel(a) : a)).join(' ')}'`);
  console.log(`  dcctl login --token-file ${rel(topology.adminTokenFile)}`);
  console.log('  dcctl setup status');
  console.log('  dcctl endpoints list');
  console.log('  dcctl zone-proxies list');
  console.log(`  dcctl test-connection ${RECORDERS[0]}`);
  console.log(`  dcctl sessions open ${RECORDERS[0]} --module trace     # then: dcctl sessions request <id> --events process --since 100000d`);
  console.log('  dcctl events list');
  console.log('\nCtrl-C stops everything. --verbose shows every log line.');
}
