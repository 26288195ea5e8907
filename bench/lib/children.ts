import type { ChildProcess } from 'node:child_process';

const children = new Set<ChildProcess>();
let installed = false;

/**
 * A child process the benchmark started (sidecar, load generator, downstream, null server),
 * stopped on every way out of the benchmark: the end, an error (an uncaught one exits through
 * 'exit' too), SIGINT (Ctrl-C) and SIGTERM. Without this a run that fails midway leaves them
 * running, holding their ports and a core. Returns the child.
 */
export function own<C extends ChildProcess>(child: C): C {
  if (!installed) {
    installed = true;
    process.on('exit', stopChildren);
    for (const [signal, code] of [
      ['SIGINT', 130],
      ['SIGTERM', 143],
    ] as const) {
      process.once(signal, () => {
        process.stderr.write(`${signal}: stopping the benchmark's processes\n`);
        process.exit(code);
      });
    }
  }
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** SIGTERM to every child still running (synchronous: it runs in 'exit'). */
function stopChildren(): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  }
  children.clear();
}
