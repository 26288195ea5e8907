import { spawn, spawnSync } from 'node:child_process';

/**
 * A private network namespace (`unshare -rn`, loopback brought up), so that a test can run the
 * shipped config on its fixed ports (4317, 4318, 8888, 8890) without colliding with other tests
 * or anything else on the machine. Needs Linux user namespaces (or root) and `ip`; where they are
 * missing, `netnsAvailable()` is false and tests fall back to other ports.
 */
let available: boolean | undefined;

export function netnsAvailable(): boolean {
  available ??=
    process.platform === 'linux' &&
    spawnSync(
      'unshare',
      ['-rn', 'sh', '-c', 'ip link set lo up && ip addr show lo | grep -q 127.0.0.1'],
      {
        stdio: 'ignore',
        timeout: 10_000,
      },
    ).status === 0;
  return available;
}

export interface ScriptResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs a TypeScript program with Node (tsx), in a private network namespace when `netns` is
 * true, and resolves with its output once it exits.
 */
export function runScript(
  script: string,
  env: Record<string, string>,
  netns: boolean,
): Promise<ScriptResult> {
  const node = [process.execPath, '--import', 'tsx', script];
  const [command, ...args] = netns
    ? ['unshare', '-rn', 'sh', '-c', 'ip link set lo up && exec "$0" "$@"', ...node]
    : node;
  return new Promise((resolve, reject) => {
    const child = spawn(command!, args, {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}
