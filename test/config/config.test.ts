import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { builtinFactories } from '../../src/components.js';
import { ConfigError } from '../../src/component/errors.js';
import { loadConfigFile, loadConfigText } from '../../src/config/load.js';
import { staticResolver } from '../../src/config/validate.js';
import { captureExporterFactory } from '../helpers/capture-exporter.js';

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
const resolver = staticResolver(builtinFactories([captureExporterFactory()]));

async function problems(
  name: string,
  env: Record<string, string> = {},
): Promise<readonly string[]> {
  try {
    await loadConfigFile(fixture(name), resolver, env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error(`${name} was accepted`);
}

describe('config loading', () => {
  it('loads a valid file: env substitution, defaults, durations, frozen', async () => {
    const config = await loadConfigFile(fixture('valid.yaml'), resolver, { MAX_BODY: '1048576' });
    const otlp = config.receivers.get('otlp')!.config as any;
    expect(otlp.protocols.grpc.endpoint).toBe('127.0.0.1:0');
    expect(otlp.protocols.grpc.max_recv_msg_size_mib).toBe(4);
    // A whole-value reference is read as a YAML scalar: a number here.
    expect(otlp.protocols.http.max_request_body_size).toBe(1048576);
    expect(otlp.protocols.http.traces_url_path).toBe('/v1/traces');
    expect(config.processors.get('batch')!.config).toEqual({
      send_batch_size: 512,
      send_batch_max_size: 0,
      timeout: 200,
      max_pending_items: 65536,
    });
    expect((config.exporters.get('capture/logs')!.config as any).label).toBe('${literal}');
    expect(config.service.pipelines.map((p) => [p.id, p.signal, p.processors])).toEqual([
      ['traces', 'traces', ['memory_limiter', 'batch']],
      ['logs/audit', 'logs', []],
    ]);
    expect(config.service.telemetry).toEqual({
      logs: { level: 'warn' },
      metrics: { level: 'normal', address: '127.0.0.1:0' },
    });
    expect(Object.isFrozen(otlp.protocols.grpc)).toBe(true);
    expect(config.unsetEnv).toEqual([]);
  });

  it('names an unset variable without a default instead of complaining about an empty value', async () => {
    expect(await problems('valid.yaml')).toEqual([
      'receivers.otlp.protocols.http.max_request_body_size: ${env:MAX_BODY} is not set and has no default: set MAX_BODY, or give a default as in ${env:MAX_BODY:-value}',
    ]);
  });

  it('lists every problem at once, each with its path', async () => {
    expect(await problems('many-problems.yaml')).toEqual([
      'receivers.otlp.protocols.grpc.endpoint: "localhost" is not a host:port address such as "0.0.0.0:4317" or "localhost:4317"',
      'receivers.otlp.protocols.grpc.max_recv_msg_size_mib: must be greater than 0, got number -1',
      'receivers.otlp.protocols.htp: unknown setting; did you mean "http"?',
      'receivers.zipkin: unknown receiver type "zipkin"; known types: otlp',
      'processors.batch.timeout: expected a duration with a unit such as "5s" or "200ms", got 5',
      'processors.memory_limiter.check_interval: "soon" is not a duration: write it as "200ms", "5s", "1m30s" or "1h"',
      'exporters.capture.labl: unknown setting; did you mean "label"?',
      'extensions.bad id!: invalid component id "bad id!": the type must start with a letter and contain only letters, digits and "_"',
      'service.telemetry.logs.level: "loud" is not one of "debug", "info", "warn", "error"',
      'service.extensions: references extension "health_check" which is not configured',
      'service.pipelines.traces.receivers: references receiver "jaeger" which is not configured',
      'service.pipelines.traces.processors: "batch" is listed twice',
      'service.pipelines.traces.exporters: references exporter "otlp/jaeger" which is not configured',
      'service.pipelines.profiles: unknown signal "profiles"; pipelines are traces, metrics or logs (optionally "traces/name")',
    ]);
  });

  it('checks pipelines and service extensions against the configured components', async () => {
    expect(await problems('bad-pipelines.yaml')).toEqual([
      'service.extensions: references extension "health_check" which is not configured',
      'service.pipelines.metrics.exporters: list at least one exporter',
      'service.pipelines.traces.receivers: references receiver "jaeger" which is not configured',
      'service.pipelines.traces.processors: "batch" is listed twice',
      'service.pipelines.traces.exporters: references exporter "otlp/jaeger" which is not configured',
      'service.pipelines.profiles: unknown signal "profiles"; pipelines are traces, metrics or logs (optionally "traces/name")',
    ]);
  });

  it('reports YAML syntax errors with line and column', async () => {
    const p = await problems('syntax-error.yaml');
    expect(p).toHaveLength(1);
    expect(p[0]).toMatch(/syntax-error\.yaml:\d+:\d+: /);
  });

  it('reports an alias bomb (billion laughs) as a problem of the file, not a crash', async () => {
    expect(await problems('alias-bomb.yaml')).toEqual([
      `${fixture('alias-bomb.yaml')}: its YAML aliases (*name) expand too far (Excessive alias count indicates a resource exhaustion attack); write the repeated values out, or refer to each anchor fewer times`,
    ]);
  });

  it('reports YAML nested too deeply to read as a problem of the file, with its place', async () => {
    const text = `receivers:\n  x: ${'['.repeat(5000)}${']'.repeat(5000)}\n`;
    const err = await loadConfigText(text, 'deep.yaml', resolver).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems).toEqual([
      expect.stringMatching(
        /^deep\.yaml:2:\d+: its YAML is nested too deeply to read \(hundreds of levels of \[ \], \{ \} or indentation\); write it flatter$/,
      ),
    ]);
  });

  it('reports malformed env references', async () => {
    expect(await problems('bad-env.yaml')).toEqual([
      'receivers.otlp.protocols.grpc.endpoint: malformed reference "${env:}": write ${env:NAME} or ${env:NAME:-default}',
    ]);
  });

  it('names a missing file', async () => {
    expect(await problems('nope.yaml')).toEqual([
      `${fixture('nope.yaml')}: no such file; pass --config FILE or run from the directory holding otel-config.yaml`,
    ]);
  });
});
