import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { builtinFactories } from '../../../src/components.js';
import type { Config } from '../../../src/config/config.js';
import { loadConfigFile } from '../../../src/config/load.js';
import { staticResolver } from '../../../src/config/validate.js';
import { parseDockerfile } from '../../helpers/dockerfile.js';
import { OtlpSink } from '../../helpers/otlp-sink.js';
import { shippedEndpoints } from '../../helpers/ports.js';
import { assertBuilt, LoggedProcess, ROOT, type LogLine } from '../../helpers/process.js';

/**
 * The Dockerfile and docker-compose.yml, without a Docker engine: both are parsed, and the very
 * command, environment and config they define are run here with Node, the checkout standing in
 * for the image's WORKDIR (/app, where its COPY lines put the same files) and a temporary
 * directory for the data volume. A wrong path, a missing variable or a port that the config does
 * not listen on fails here. The listen addresses are moved to free ports through the variables
 * the configs read (HOURGLASS_*_ENDPOINT), as other test files run at the same time; the ports
 * the image and compose publish are checked against the configs' own defaults instead.
 */
beforeAll(() => assertBuilt());
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const stages = parseDockerfile(join(ROOT, 'Dockerfile'));
const runtime = stages.at(-1)!;
const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8')) as {
  services: Record<string, ComposeService>;
  volumes: Record<string, unknown>;
};

interface ComposeService {
  image?: string;
  build?: string | { context: string; target?: string };
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  profiles?: string[];
  depends_on?: string[] | Record<string, { condition: string }>;
  entrypoint?: string[];
}

/** Compose's own interpolation of `${VAR}`, `${VAR:-default}` against the shell's environment. */
function interpolate(value: string, shell: Record<string, string>): string {
  return value.replace(
    /\$\{(\w+)(?::-([^}]*))?\}/g,
    (_, n: string, d?: string) => shell[n] || d || '',
  );
}

function serviceEnv(name: string, shell: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(compose.services[name]!.environment ?? {})) {
    env[k] = interpolate(String(v), shell);
  }
  return env;
}

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'hourglass-image-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Where an absolute path of the image is in this checkout (under WORKDIR), or in the volume. */
function mapPath(value: string, data: string, mounts: Record<string, string> = {}): string {
  const volume = runtime.env['HOURGLASS_DATA_DIR']!;
  for (const [target, source] of Object.entries(mounts)) if (value === target) return source;
  if (value === volume || value.startsWith(`${volume}/`)) return data + value.slice(volume.length);
  if (value.startsWith(`${runtime.workdir}/`))
    return join(ROOT, value.slice(runtime.workdir.length + 1));
  return value;
}

function mapEnv(
  env: Record<string, string>,
  data: string,
  mounts: Record<string, string> = {},
): Record<string, string> {
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, mapPath(v, data, mounts)]));
}

/** Runs an image's exec-form command (`node ...`) from the checkout, with that environment only. */
function runImageCommand(command: string[], env: Record<string, string>): LoggedProcess {
  expect(command[0]).toBe('node');
  const p = new LoggedProcess(process.execPath, command.slice(1), {
    cwd: ROOT,
    env: { PATH: process.env['PATH']!, ...env },
  });
  cleanups.push(() => p.kill('SIGKILL'));
  return p;
}

const running = (l: LogLine) => l.msg === 'hourglass is running';

function healthcheck(env: Record<string, string>): number | null {
  const cmd = runtime.healthcheck!.cmd;
  expect(cmd[0]).toBe('node');
  return spawnSync(process.execPath, cmd.slice(1), {
    cwd: ROOT,
    env: { PATH: process.env['PATH']!, ...env },
    timeout: 20_000,
  }).status;
}

async function loadWith(
  env: Record<string, string>,
  path = env['HOURGLASS_CONFIG']!,
): Promise<Config> {
  return loadConfigFile(path, staticResolver(builtinFactories()), env);
}

/** Every `storage` setting in the config (stores: baselines, summaries, persistent queues). */
function stores(config: Config): string[] {
  const out: string[] = [];
  const walk = (v: unknown, key: string) => {
    if (key === 'storage' && typeof v === 'string') out.push(v);
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, k);
  };
  for (const section of [
    config.receivers,
    config.processors,
    config.exporters,
    config.connectors,
    config.extensions,
  ]) {
    for (const c of section.values()) walk(c.config, '');
  }
  return out;
}

/** Every address the config listens on: receivers, the admin API, the telemetry endpoint. */
function listening(config: Config): string[] {
  const out: string[] = [];
  for (const section of [config.receivers, config.extensions]) {
    for (const c of section.values()) {
      const f = c.factory as { listeners?: (c: unknown) => { address: string }[] };
      out.push(...(f.listeners?.(c.config).map((l) => l.address) ?? []));
    }
  }
  out.push(config.service.telemetry.metrics.address);
  return out;
}

describe('the Docker image (Dockerfile, last stage)', () => {
  it('runs as a non-root user owning one data volume, where every store of its config goes', async () => {
    const volume = runtime.env['HOURGLASS_DATA_DIR']!;
    expect(runtime.user).toBe('node');
    expect(runtime.volumes).toEqual([volume]);
    expect(runtime.run).toContainEqual(expect.stringContaining(`chown node:node ${volume}`));
    // The config it reads is one its COPY lines put into the image.
    const config = runtime.env['HOURGLASS_CONFIG']!;
    const copied = runtime.copies.flatMap((c) =>
      c.sources.map((s) => join(runtime.workdir, c.dest, s)),
    );
    expect(copied).toContain(config);
    const data = tempDir();
    const loaded = await loadWith(mapEnv(runtime.env, data));
    expect(stores(loaded).length).toBeGreaterThan(0);
    for (const s of stores(loaded)) expect(s.startsWith(`${data}/`)).toBe(true);
  });

  it('publishes the ports its config listens on by default', async () => {
    const loaded = await loadWith(mapEnv(runtime.env, tempDir()));
    const ports = listening(loaded).map((a) => Number(a.split(':').at(-1)));
    expect([...runtime.expose].sort()).toEqual([...ports].sort());
  });

  it('starts with its ENTRYPOINT, CMD and ENV; its HEALTHCHECK follows the configured telemetry address; SIGTERM drains', async () => {
    const data = tempDir();
    const env = { ...mapEnv(runtime.env, data), ...(await shippedEndpoints()) };
    expect(healthcheck(env)).toBe(1);
    const sidecar = runImageCommand([...runtime.entrypoint, ...runtime.cmd], env);
    await sidecar.waitForLog(running);
    expect(healthcheck(env)).toBe(0);
    sidecar.kill('SIGTERM');
    expect(await sidecar.exited).toBe(0);
    expect(existsSync(join(data, 'hourglass.db'))).toBe(true);
  });
});

describe('the build stages', () => {
  it("the deps stage's npm ci runs the prepare script without the sources: it must pass there", () => {
    const deps = stages.find((st) => st.name === 'deps')!;
    expect(deps.run).toContain('npm ci');
    const dir = tempDir();
    for (const c of deps.copies) {
      for (const src of c.sources) {
        writeFileSync(join(dir, src), readFileSync(join(ROOT, src)));
      }
    }
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    const r = spawnSync('sh', ['-c', pkg.scripts['prepare']!], { cwd: dir, encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(existsSync(join(dir, 'dist'))).toBe(false);
  });
});

describe('docker-compose.yml', () => {
  const hourglass = compose.services['hourglass']!;
  const volume = runtime.env['HOURGLASS_DATA_DIR']!;
  /** The bind mounts of the hourglass service: container path -> path in the checkout. */
  const mounts = Object.fromEntries(
    (hourglass.volumes ?? [])
      .map((v) => v.split(':'))
      .filter(([source]) => source!.startsWith('./'))
      .map(([source, target]) => [target!, join(ROOT, source!)]),
  );
  const env = (shell: Record<string, string> = {}, data = '/nowhere') =>
    mapEnv({ ...runtime.env, ...serviceEnv('hourglass', shell) }, data, mounts);

  it('builds hourglass from the image above, its data volume where the image keeps its stores', () => {
    expect(hourglass.build).toBe('.');
    const named = (hourglass.volumes ?? []).find((v) => !v.startsWith('./'))!;
    expect(named).toBe(`hourglass-data:${volume}`);
    expect(compose.volumes).toHaveProperty('hourglass-data');
    const config = serviceEnv('hourglass')['HOURGLASS_CONFIG']!;
    expect(existsSync(mounts[config]!)).toBe(true);
  });

  it('its config keeps every store (baselines, summaries, the sending queue) in that volume', async () => {
    const data = tempDir();
    const found = stores(await loadWith(env({}, data)));
    expect(found).toHaveLength(4); // anomaly, otlp/jaeger's queue, llm_summary, llm_summary/ollama
    for (const s of found) expect(s.startsWith(`${data}/`)).toBe(true);
  });

  it('publishes ports the config listens on, on every interface inside the container; the admin API only on the host loopback', async () => {
    const loaded = await loadWith(env());
    const addresses = listening(loaded);
    for (const mapping of hourglass.ports!) {
      const parts = mapping.split(':');
      const containerPort = Number(parts.at(-1));
      const bound = addresses.find((a) => Number(a.split(':').at(-1)) === containerPort);
      expect(bound, mapping).toBe(`0.0.0.0:${containerPort}`);
    }
    const admin = loaded.extensions.get('admin')!.config as {
      endpoint: string;
      jaeger_ui_url?: string;
    };
    const published = hourglass.ports!.find((p) => p.endsWith(`:${admin.endpoint.split(':')[1]}`))!;
    expect(published.startsWith('127.0.0.1:')).toBe(true);
    // Anomaly links open the Jaeger UI that compose publishes.
    const ui = compose.services['jaeger']!.ports!.find((p) => p.endsWith(':16686'))!;
    expect(admin.jaeger_ui_url).toBe(`http://localhost:${ui.split(':')[0]}`);
  });

  it('wires hourglass to Jaeger and the demo shop to hourglass by service name', async () => {
    const loaded = await loadWith(env());
    const jaeger = (loaded.exporters.get('otlp/jaeger')!.config as { endpoint: string }).endpoint;
    expect(jaeger).toBe('jaeger:4317');
    expect(compose.services[jaeger.split(':')[0]!]).toBeDefined();
    const http = (
      loaded.receivers.get('otlp')!.config as { protocols: { http: { endpoint: string } } }
    ).protocols.http.endpoint;
    expect(serviceEnv('demo-shop')['OTEL_EXPORTER_OTLP_ENDPOINT']).toBe(
      `http://hourglass:${http.split(':')[1]}`,
    );
    const shop = compose.services['demo-shop']!;
    expect(stages.map((s) => s.name)).toContain((shop.build as { target: string }).target);
    expect(shop.depends_on).toEqual({ hourglass: { condition: 'service_healthy' } });
    expect(runtime.healthcheck).toBeDefined();
  });

  it('with the ollama profile, llm_summary/ollama writes the summaries with the Ollama service', async () => {
    const shell = { HOURGLASS_SUMMARIES: 'llm_summary/ollama' };
    const loaded = await loadWith(env(shell));
    const traces = loaded.service.pipelines.find((p) => p.id === 'traces')!;
    expect(traces.exporters).toContain('llm_summary/ollama');
    // Its summary spans go on to Jaeger through the pipeline that receives from it.
    expect(loaded.service.pipelines.find((p) => p.id === 'traces/summaries')).toMatchObject({
      receivers: ['llm_summary/ollama'],
      exporters: ['otlp/jaeger'],
    });
    const summary = loaded.connectors.get('llm_summary/ollama')!.config as {
      provider: string;
      endpoint: string;
      model: string;
    };
    expect(summary.provider).toBe('ollama');
    const host = new URL(summary.endpoint);
    const ollama = compose.services[host.hostname]!;
    expect(ollama.profiles).toEqual(['ollama']);
    expect(host.port).toBe('11434');
    const pull = compose.services['ollama-pull']!;
    expect(pull.profiles).toEqual(['ollama']);
    expect(pull.environment!['OLLAMA_HOST']).toBe(summary.endpoint);
    expect(pull.entrypoint!.map((a) => interpolate(a, shell))).toEqual([
      'ollama',
      'pull',
      summary.model,
    ]);
    // Without the profile: the built-in summarizer, no model needed.
    const builtin = await loadWith(env());
    expect(builtin.service.pipelines.find((p) => p.id === 'traces')!.exporters).toContain(
      'llm_summary',
    );
  });

  it("runs as compose runs it: the demo shop's traffic through hourglass to Jaeger, every store in the volume", async () => {
    const data = tempDir();
    const jaeger = await OtlpSink.start(); // standing in for the jaeger service's OTLP port
    cleanups.push(() => jaeger.close());
    const ports = await shippedEndpoints();
    const hourglassEnv = { ...env({}, data), ...ports, JAEGER_OTLP_ENDPOINT: jaeger.grpcEndpoint };
    const sidecar = runImageCommand([...runtime.entrypoint, ...runtime.cmd], hourglassEnv);
    await sidecar.waitForLog(running);
    expect(healthcheck(hourglassEnv)).toBe(0);

    const demo = stages.find((s) => s.name === 'demo')!;
    // Its SDK exports every 5 s (the BatchSpanProcessor's default): the first spans come then.
    const shopEnv = serviceEnv('demo-shop');
    shopEnv['OTEL_EXPORTER_OTLP_ENDPOINT'] = shopEnv['OTEL_EXPORTER_OTLP_ENDPOINT']!.replace(
      /hourglass:\d+/,
      ports['HOURGLASS_HTTP_ENDPOINT']!,
    );
    const shop = runImageCommand([...demo.entrypoint, ...demo.cmd], shopEnv);
    await jaeger.waitFor(40, 'traces', 20_000);
    shop.kill('SIGTERM');
    await shop.exited;
    sidecar.kill('SIGTERM');
    expect(await sidecar.exited).toBe(0);
    expect(existsSync(join(data, 'hourglass.db'))).toBe(true);
    expect(existsSync(join(data, 'summaries.db'))).toBe(true);
    expect(existsSync(join(data, 'queue'))).toBe(true);
  }, 60_000);
});
