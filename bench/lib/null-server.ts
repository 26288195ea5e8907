import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { own } from './children.js';

export interface NullServer {
  readonly grpc: number;
  readonly http: number;
  stop(): void;
}

/**
 * Starts `bench/null-otlp-server.ts` (answers every OTLP request at once) in its own process,
 * optionally pinned to a core, and resolves with its ports.
 */
export async function startNullServer(core?: string): Promise<NullServer> {
  const script = fileURLToPath(new URL('../null-otlp-server.ts', import.meta.url));
  const node = [process.execPath, '--import', 'tsx', script];
  const child = own(
    core === undefined
      ? spawn(node[0]!, node.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] })
      : spawn('taskset', ['-c', core, ...node], { stdio: ['ignore', 'pipe', 'inherit'] }),
  );
  const line = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the null server exited with ${code}`)));
    createInterface({ input: child.stdout }).once('line', resolve);
  });
  const m = /grpc=(\d+) http=(\d+)/.exec(line);
  if (!m) throw new Error(`the null server said "${line}", not its ports`);
  return { grpc: Number(m[1]), http: Number(m[2]), stop: () => child.kill() };
}
