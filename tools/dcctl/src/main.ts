// Composition root of dcctl: runs the program on this process's argv, stdio and environment.
import { runDcctl } from './program';

void runDcctl(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env }).then((code) => {
  process.exitCode = code;
});
