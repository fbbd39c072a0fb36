// `npm start`: runs the whole system locally on embedded defaults — every app as a process on
// loopback, each with its data under ./data/<app> — prints where everything listens, and stops
// everything cleanly on Ctrl-C. A second run reuses the data.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const dataRoot = resolve(process.env.DC_DATA_ROOT ?? join(root, 'data'));
const verbose = process.argv.includes('--verbose');

/** Start order matters: the CA and settings first, the services that call them after. */
const APPS = [
  { name: 'cert-authority', env: (d) => ({ DC_CERT_AUTHORITY_DATA_DIR: d }) },
  { name: 'settings', env: (d) => ({ DC_SETTINGS_DATA_DIR: d }) },
  { name: 'module-server', env: (d) => ({ DC_MODULE_SERVER_DATA_DIR: d }) },
  {
    name: 'zone-proxy',
    env: (d) => ({
      DC_ZONE_PROXY_INSTALL_DIR: d,
      DC_ZONE_PROXY_ENDPOINT_INBOUND__HOST: '127.0.0.1',
      DC_ZONE_PROXY_MODULE_SERVER_INBOUND__HOST: '127.0.0.1',
      DC_ZONE_PROXY_PROVISIONING__HOST: '127.0.0.1',
    }),
  },
];

const children = new Map();
let stopping = false;

function startApp(app) {
  const entry = join(root, 'apps', app.name, 'dist', 'main.cjs');
  if (!existsSync(entry)) {
    console.error(`start: ${app.name} is not built (${entry} missing): run "npm ci" or "npm run build" first`);
    process.exit(1);
  }
  const dir = join(dataRoot, app.name);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const child = spawn(process.execPath, [entry], { cwd: root, env: { ...process.env, ...app.env(dir) }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.set(app.name, child);
  return new Promise((resolveStart, rejectStart) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      let rec;
      try {
        rec = JSON.parse(line);
      } catch {
        console.log(`[${app.name}] ${line}`);
        return;
      }
      if (rec.msg === 'service started') resolveStart(rec.ports ?? {});
      if (verbose || rec.level === 'warn' || rec.level === 'error' || rec.level === 'fatal') {
        console.log(`[${app.name}] ${rec.level} ${rec.msg}`);
      }
    });
    createInterface({ input: child.stderr }).on('line', (line) => console.error(`[${app.name}] ${line}`));
    child.once('exit', (code, signal) => {
      children.delete(app.name);
      if (!stopping) {
        console.error(`start: ${app.name} exited (${code ?? signal}); stopping everything`);
        rejectStart(new Error(`${app.name} exited`));
        void stopAll(1);
      }
    });
  });
}

async function stopAll(exitCode) {
  if (stopping) return;
  stopping = true;
  console.log('\nstopping…');
  await Promise.all(
    [...children.entries()].reverse().map(
      ([name, child]) =>
        new Promise((res) => {
          const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
          child.once('exit', (code) => {
            clearTimeout(timer);
            console.log(`  ${name} stopped (${code ?? 'signal'})`);
            res();
          });
          child.kill('SIGTERM');
        }),
    ),
  );
  process.exit(exitCode);
}

process.on('SIGINT', () => void stopAll(0));
process.on('SIGTERM', () => void stopAll(0));

mkdirSync(dataRoot, { recursive: true, mode: 0o700 });
console.log(`Direct Connect: starting on 127.0.0.1, data under ${dataRoot}`);
const table = [];
for (const app of APPS) {
  try {
    const ports = await startApp(app);
    table.push([app.name, Object.entries(ports).filter(([, p]) => p).map(([k, p]) => `${k} ${p}`).join(', ')]);
  } catch {
    break;
  }
}
if (!stopping) {
  console.log('\nrunning:');
  for (const [name, ports] of table) console.log(`  ${name.padEnd(16)} ${ports}`);
  console.log('\nCtrl-C stops everything. --verbose shows every log line.');
}
