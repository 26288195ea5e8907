import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { statSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const CLI = join(ROOT, 'dist/cli.js');

/** The newest modification time under a directory. */
function newest(dir: string): number {
  let t = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    t = Math.max(t, entry.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

/**
 * `npm ARGS` in the checkout, as a newcomer types it (through the npm running the tests, when
 * there is one): its exit code and what it printed.
 */
export function npm(
  ...args: string[]
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const execPath = process.env['npm_execpath'];
  const [cmd, ...rest] = execPath ? [process.execPath, execPath, ...args] : ['npm', ...args];
  const child = spawn(cmd!, rest, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr })));
}

/** Throws unless dist/ holds a build at least as new as src/ (`npm test` builds first). */
export function assertBuilt(): void {
  let built = 0;
  try {
    built = statSync(CLI).mtimeMs;
  } catch {
    // not built
  }
  if (built < newest(join(ROOT, 'src'))) {
    throw new Error('dist/ is missing or older than src/: run `npm run build` (npm test does it)');
  }
}

export interface LogLine {
  level: string;
  msg: string;
  [key: string]: unknown;
}

/**
 * A child process whose stderr carries pino JSON log lines: its logs (other lines are kept as
 * `{ level: 'text' }`), its stdout, and a way to await a log line or its exit.
 */
export class LoggedProcess {
  readonly logs: LogLine[] = [];
  stdout = '';
  stderrText = '';
  readonly exited: Promise<number | null>;
  /** Resolves once every process holding its stderr has exited (children it left included). */
  readonly stderrClosed: Promise<void>;
  readonly child: ChildProcess;
  private readonly listeners = new Set<() => void>();

  /** With `closedStdout`, its stdout's reading end is closed at once (`hourglass run | head`). */
  constructor(
    command: string,
    args: readonly string[],
    options: SpawnOptions & { closedStdout?: boolean },
  ) {
    const { closedStdout, ...spawnOptions } = options;
    this.child = spawn(command, args, { ...spawnOptions, stdio: ['ignore', 'pipe', 'pipe'] });
    if (closedStdout) this.child.stdout!.destroy();
    else this.child.stdout!.on('data', (d: Buffer) => (this.stdout += d.toString()));
    let partial = '';
    this.child.stderr!.on('data', (d: Buffer) => {
      this.stderrText += d.toString();
      const lines = (partial + d.toString()).split('\n');
      partial = lines.pop()!;
      for (const line of lines) {
        try {
          this.logs.push(JSON.parse(line) as LogLine);
        } catch {
          this.logs.push({ level: 'text', msg: line });
        }
      }
      for (const l of this.listeners) l();
    });
    this.stderrClosed = new Promise((resolve) => this.child.stderr!.once('close', () => resolve()));
    this.exited = new Promise((resolve) =>
      this.child.once('exit', (code) => {
        resolve(code);
        for (const l of this.listeners) l();
      }),
    );
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** True until the process has exited. */
  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  kill(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  /** Resolves once a log line matches (rejects if the process exits first or time runs out). */
  waitForLog(match: (l: LogLine) => boolean, timeoutMs = 15_000): Promise<LogLine> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.logs.find(match);
        if (found) done(() => resolve(found));
        else if (this.child.exitCode !== null || this.child.signalCode !== null) {
          done(() =>
            reject(new Error(`the process exited before the log line:\n${this.stderrText}`)),
          );
        }
      };
      const timer = setTimeout(
        () =>
          done(() =>
            reject(new Error(`no matching log line within ${timeoutMs} ms:\n${this.stderrText}`)),
          ),
        timeoutMs,
      );
      const done = (settle: () => void) => {
        clearTimeout(timer);
        this.listeners.delete(check);
        settle();
      };
      this.listeners.add(check);
      check();
    });
  }
}

/**
 * The built sidecar (`node dist/cli.js ...args`) from the checkout's root, as a child process.
 * `cli`: another build of the CLI (benchmarks compare against a reference build); `prefix`: a
 * command that runs node (`prlimit --nofile=512:512`, for a lowered open-file limit).
 */
export class SidecarProcess extends LoggedProcess {
  constructor(
    args: string[],
    env: Record<string, string> = {},
    options: { closedStdout?: boolean; cli?: string; prefix?: readonly string[] } = {},
  ) {
    const { cli, prefix, ...rest } = options;
    const command = [...(prefix ?? []), process.execPath, cli ?? CLI, ...args];
    super(command[0]!, command.slice(1), {
      cwd: ROOT,
      env: { ...process.env, ...env },
      ...rest,
    });
  }
}

/** Runs the CLI to completion. */
export async function runCli(
  args: string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const p = new SidecarProcess(args);
  const code = await p.exited;
  return { code, stdout: p.stdout, stderr: p.stderrText };
}
