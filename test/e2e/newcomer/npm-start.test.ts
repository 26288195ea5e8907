import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { netnsAvailable, runScript } from '../../helpers/netns.js';
import { shippedEndpoints } from '../../helpers/ports.js';
import { assertBuilt, LoggedProcess, ROOT, type LogLine } from '../../helpers/process.js';

/**
 * A newcomer's first run: `npm start` with the shipped otel-config.yaml, no Jaeger anywhere.
 *
 * The shipped config binds fixed ports (4317, 4318, 8888, 8890). Where `unshare -rn` works, the
 * scenario runs in its own network namespace with exactly those ports: what a newcomer runs, and
 * the only way to see a self-loop (an exporter defaulting to localhost:4317 sends to 0.0.0.0:4317).
 * Elsewhere it falls back to free ports through the variables the shipped config reads
 * (HOURGLASS_GRPC_ENDPOINT, HOURGLASS_HTTP_ENDPOINT, HOURGLASS_TELEMETRY_ENDPOINT,
 * HOURGLASS_ADMIN_ENDPOINT); the start-up refusal of self-loops is then covered by
 * test/config/address-checks.test.ts alone.
 */
beforeAll(() => assertBuilt());
const SCENARIO = fileURLToPath(new URL('./npm-start-scenario.ts', import.meta.url));

interface Scenario {
  sent: number;
  exportCode: number;
  accepted: Record<string, number>;
  exitCode: number | null;
  error?: string;
  logs: LogLine[];
}

describe('the shipped otel-config.yaml, started as npm start starts it', () => {
  it('accepts exactly what was sent (no loop), says where it sends and that Jaeger cannot be reached, stops on SIGTERM', async () => {
    const netns = netnsAvailable();
    const env: Record<string, string> = { SCENARIO_SPANS: '200', SCENARIO_WATCH_MS: '3000' };
    if (!netns) env['SCENARIO_ENDPOINTS'] = JSON.stringify(await shippedEndpoints());
    const run = await runScript(SCENARIO, env, netns);
    expect(run.stderr).toBe('');
    const r = JSON.parse(run.stdout) as Scenario;
    expect(r.error).toBeUndefined();
    expect(r.exportCode).toBe(0);
    // Over 3 s after the export: every span once, none back in over gRPC.
    expect(r.accepted).toEqual({ http: 200, grpc: 0 });
    const messages = r.logs.map((l) => l.msg);
    expect(messages).toContain(
      'sending traces to jaeger:4317 (the default; set JAEGER_OTLP_ENDPOINT to change it)',
    );
    const unreachable = r.logs.filter((l) => /^cannot export to jaeger:4317/.test(l.msg));
    expect(unreachable).toHaveLength(1);
    expect(unreachable[0]!.msg).toMatch(
      /; if it is elsewhere, set JAEGER_OTLP_ENDPOINT \(exporters\.otlp\/jaeger\.endpoint\)$/,
    );
    expect(messages).toContain('shutdown complete');
    expect(r.exitCode).toBe(0);
  }, 60_000);
});

/** `npm run start` as a child, in its own process group, with its stderr read as log lines. */
class NpmStart extends LoggedProcess {
  constructor(env: Record<string, string>) {
    // `--ignore-scripts` skips only prestart (the build): npm test has built dist/ already, and a
    // build here would rewrite dist/ under the other test files running at the same time.
    const npm = process.env['npm_execpath'];
    const [cmd, ...args] = npm
      ? [process.execPath, npm, 'run', 'start', '--ignore-scripts']
      : ['npm', 'run', 'start', '--ignore-scripts'];
    super(cmd!, args, { cwd: ROOT, env: { ...process.env, ...env }, detached: true });
  }

  /** The pids of npm's children (the sidecar's node, since `start` execs it). */
  children(): number[] {
    return readdirSync(`/proc/${this.pid}/task`).flatMap((t) =>
      readFileSync(`/proc/${this.pid}/task/${t}/children`, 'utf8')
        .trim()
        .split(/\s+/)
        .filter(Boolean)
        .map(Number),
    );
  }
}

describe('npm start', () => {
  const cleanups: Array<() => void> = [];
  afterEach(() => {
    for (const c of cleanups.splice(0).reverse()) c();
  });

  async function start(): Promise<{ npm: NpmStart; sidecar: number }> {
    const data = mkdtempSync(join(tmpdir(), 'hourglass-npm-start-'));
    cleanups.push(() => rmSync(data, { recursive: true, force: true }));
    // Free ports through the variables the shipped config reads (other tests run in parallel).
    const npm = new NpmStart({ ...(await shippedEndpoints()), HOURGLASS_DATA_DIR: data });
    cleanups.push(() => {
      try {
        process.kill(-npm.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    });
    await npm.waitForLog((l) => l.msg === 'hourglass is running');
    const children = npm.children();
    expect(children).toHaveLength(1);
    return { npm, sidecar: children[0]! };
  }

  it('stops the sidecar when npm itself gets SIGTERM: it drains and exits, no orphan is left', async () => {
    const { npm, sidecar } = await start();
    expect(readFileSync(`/proc/${sidecar}/cmdline`, 'utf8')).toContain('dist/cli.js');
    npm.kill('SIGTERM'); // npm only, as a process manager or `kill <npm pid>` would
    await npm.stderrClosed; // npm and the sidecar both gone (both held the pipe)
    expect(existsSync(`/proc/${sidecar}`)).toBe(false);
    const messages = npm.logs.map((l) => l.msg);
    expect(messages).toContain('shutdown complete');
    expect(messages).not.toContain('second signal: exiting without waiting for the drain');
  }, 60_000);

  it('Ctrl-C (SIGINT to npm and the sidecar, which npm forwards again) drains once', async () => {
    const { npm, sidecar } = await start();
    process.kill(-npm.pid, 'SIGINT'); // the terminal signals the whole foreground group
    await npm.stderrClosed;
    expect(existsSync(`/proc/${sidecar}`)).toBe(false);
    const messages = npm.logs.map((l) => l.msg);
    expect(messages.filter((m) => m.startsWith('shutting down'))).toHaveLength(1);
    expect(messages).toContain('shutdown complete');
    expect(messages).not.toContain('second signal: exiting without waiting for the drain');
  }, 60_000);
});
