import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/component/errors.js';
import { builtinFactories } from '../../src/components.js';
import { loadConfigFile } from '../../src/config/load.js';
import { staticResolver } from '../../src/config/validate.js';

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
const load = (name: string) =>
  loadConfigFile(fixture(name), staticResolver(builtinFactories()), {});

describe('exporter configuration', () => {
  it('reports every problem with its path', async () => {
    const err = (await load('bad-exporters.yaml').catch((e: unknown) => e)) as ConfigError;
    expect(err).toBeInstanceOf(ConfigError);
    // (The pipeline then also names each invalid exporter as "not configured"; that is the
    // service's check, not the exporters'.)
    expect(err.problems.filter((p) => p.startsWith('exporters.'))).toEqual([
      'exporters.otlp/no-endpoint.endpoint: required: the host:port of the OTLP/gRPC server, e.g. "jaeger:4317"',
      'exporters.otlp/bad.endpoint: "jaeger" is not a host:port address such as "jaeger:4317"',
      'exporters.otlp/bad.compression: "zstd" is not one of "gzip", "none"',
      'exporters.otlp/bad.timeout: expected a duration with a unit such as "5s" or "200ms", got 5',
      'exporters.otlp/bad.retry_on_failure.max_interval: must be at least initial_interval',
      'exporters.otlp/bad.sending_queue.queue_size: must be at least 1, got number 0',
      'exporters.otlp/bad.sending_queue.colour: unknown setting',
      'exporters.otlphttp/none.encoding: "yaml" is not one of "proto", "json"',
      'exporters.otlphttp/none.endpoint: required: the base URL of the OTLP/HTTP server, e.g. "http://jaeger:4318" (or traces_endpoint, metrics_endpoint, logs_endpoint)',
      'exporters.otlphttp/bad-url.endpoint: "jaeger:4318" is not an http:// or https:// URL such as "http://jaeger:4318"',
      'exporters.debug.verbosity: "loud" is not one of "basic", "normal", "detailed"',
      'exporters.file.path: required: the file to write, e.g. "./data/spans.jsonl"',
      'exporters.file.rotation.max_megabytes: must be greater than 0, got number 0',
    ]);
  });

  it('fills in the Collector defaults', async () => {
    const config = await load('good-exporters.yaml');
    const otlp = config.exporters.get('otlp/jaeger')!.config;
    expect(otlp).toEqual({
      endpoint: 'jaeger:4317',
      tls: { insecure: true, insecure_skip_verify: false, min_version: '1.2' },
      headers: { 'x-tenant': 'blue' },
      compression: 'gzip',
      compression_params: { level: 1 },
      timeout: 5000,
      retry_on_failure: {
        enabled: true,
        initial_interval: 5000,
        randomization_factor: 0.5,
        multiplier: 1.5,
        max_interval: 30000,
        max_elapsed_time: 0,
      },
      sending_queue: {
        enabled: true,
        num_consumers: 10,
        queue_size: 1000,
        storage: './data/queue',
        merge_max_bytes: 1048576,
      },
    });
    const http = config.exporters.get('otlphttp/jaeger')!.config as Record<string, unknown>;
    expect(http['timeout']).toBe(30000);
    expect(http['encoding']).toBe('proto');
    expect(http['compression']).toBe('none');
    expect((http['retry_on_failure'] as Record<string, unknown>)['max_elapsed_time']).toBe(0);
    expect(config.exporters.get('debug')!.config).toEqual({
      verbosity: 'normal',
      sampling_initial: 2,
      sampling_thereafter: 1,
    });
    expect(config.exporters.get('file')!.config).toEqual({
      path: './data/spans.jsonl',
      format: 'json',
      rotation: { max_megabytes: 100, max_backups: 100 },
      flush_interval: 1000,
    });
  });
});
