import type { CommandContext } from './command.js';

/**
 * `hourglass ... | head`: when the reader of stdout goes away, the next write fails with EPIPE.
 * Without a listener that is an uncaught exception and a stack trace; with this one the command
 * ends quietly: at once (exit 0), or gracefully when it registered how to stop (the sidecar).
 * A closed stderr is ignored: there is nowhere left to say anything.
 */
export function watchOutput(
  exit: (code: number) => void = (code) => process.exit(code),
  stdout: NodeJS.WriteStream = process.stdout,
  stderr: NodeJS.WriteStream = process.stderr,
): CommandContext {
  let stop: (() => void) | undefined;
  let closed = false;
  stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    if (closed) return;
    closed = true;
    if (stop) stop();
    else exit(0);
  });
  stderr.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
  });
  return {
    onOutputClosed(fn) {
      stop = fn;
    },
  };
}
