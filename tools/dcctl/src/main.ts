// Composition root of dcctl: runs the program on this process's argv, stdio and environment.
import { runDcctl } from './program';

// grpc-js sets the TLS ServerName to the dialled IP, which Node reports as DEP0123 on every
// call; operators cannot act on it, so deprecation warnings are not printed by the CLI.
process.noDeprecation = true;

// `dcctl ... | head` closes stdout early: stop quietly instead of crashing on EPIPE.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

void runDcctl(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env }).then((code) => {
  process.exitCode = code;
});
