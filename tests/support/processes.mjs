// Starting the gateway's binaries from the Node test suites (the browser
// check and the graphql-http audit): Node's standard library only.
import { spawn } from 'node:child_process';

/**
 * Starts `bin` with `args` and exactly `env`; `started` resolves with the
 * match once its output (stdout and stderr) matches `ready`, and rejects if
 * it exits first or `timeoutMs` passes. `log()` is the output so far.
 */
export function startProcess(bin, args, env, ready, timeoutMs) {
  const child = spawn(bin, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const started = new Promise((resolveStarted, reject) => {
    const timer = setTimeout(() => reject(new Error(`${bin} did not start:\n${log}`)), timeoutMs);
    const onData = (chunk) => {
      log += chunk;
      const found = ready.exec(log);
      if (found) {
        clearTimeout(timer);
        resolveStarted(found);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => reject(new Error(`${bin} exited with ${code}:\n${log}`)));
    child.on('error', reject);
  });
  return { child, started, log: () => log };
}

/** The gateway's log line that says where it serves; its first group is the URL. */
export const SERVING = /serving on (http:\/\/127\.0\.0\.1:\d+)/;
