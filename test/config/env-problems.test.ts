import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/component/errors.js';
import { builtinFactories } from '../../src/components.js';
import { loadConfigText } from '../../src/config/load.js';
import { staticResolver } from '../../src/config/validate.js';

/**
 * Config problems about values that came from environment variables: an unset variable is named
 * as unset; a value from a set variable is never echoed (it may be a secret), the variable is
 * named instead; typos get the closest known name.
 */
const resolver = staticResolver(builtinFactories());
const SECRET = 's3cr3t-7f3a9c1e5b2d';

async function problems(yaml: string, env: Record<string, string> = {}): Promise<string[]> {
  try {
    await loadConfigText(yaml, 'test.yaml', resolver, env);
  } catch (err) {
    if (err instanceof ConfigError) return [...err.problems];
    throw err;
  }
  throw new Error('the config was accepted');
}

const withExporters = (exporters: string, processors = '') => `
receivers:
  otlp: { protocols: { http: { endpoint: 127.0.0.1:0 } } }
${processors}
exporters:
${exporters}
service:
  pipelines:
    traces: { receivers: [otlp], exporters: [debug] }
  telemetry: { metrics: { level: none } }
`;

describe('config problems and environment variables', () => {
  it('never echo a value that came from a set variable, and name the variable instead', async () => {
    const found = await problems(
      withExporters(
        `  debug: {}
  otlp: { endpoint: "\${env:JAEGER}", compression: "\${env:COMPRESSION}" }
  otlphttp: { endpoint: "\${env:URL}", timeout: "\${env:TIMEOUT}" }`,
        'processors:\n  batch: { send_batch_size: "${env:BATCH}" }',
      ),
      {
        JAEGER: `user:${SECRET}@jaeger`,
        COMPRESSION: SECRET,
        URL: `ftp://${SECRET}`,
        TIMEOUT: SECRET,
        BATCH: SECRET,
      },
    );
    expect(found).toEqual([
      'processors.batch.send_batch_size: expected a number, got the value of ${env:BATCH} (a string)',
      'exporters.otlp.endpoint: the value of ${env:JAEGER} is not a host:port address such as "jaeger:4317"',
      'exporters.otlp.compression: the value of ${env:COMPRESSION} (a string) is not one of "gzip", "none"',
      'exporters.otlphttp.endpoint: the value of ${env:URL} is not an http:// or https:// URL such as "http://jaeger:4318"',
      'exporters.otlphttp.timeout: the value of ${env:TIMEOUT} is not a duration: write it as "200ms", "5s", "1m30s" or "1h"',
    ]);
    expect(found.join('\n')).not.toContain('s3cr3t');
  });

  it('shows a partly substituted value as written in the file, and names a variable whose value is not quoted', async () => {
    const found = await problems(
      withExporters(
        `  debug: {}
  otlphttp: { endpoint: "ftp://\${env:HOST}:4318" }`,
        'processors:\n  batch: { send_batch_size: "${env:BATCH}" }',
      ),
      { HOST: SECRET, BATCH: '-5' },
    );
    expect(found).toEqual([
      'processors.batch.send_batch_size: must be greater than 0, got the value of ${env:BATCH} (a number)',
      'exporters.otlphttp.endpoint: "ftp://${env:HOST}:4318" is not an http:// or https:// URL such as "http://jaeger:4318"',
    ]);
  });

  it('names an unset variable without a default, whole or part of a value', async () => {
    expect(
      await problems(
        withExporters(`  debug: {}
  otlp: { endpoint: "\${env:JAEGER_OTLP_ENDPOINT}" }
  otlphttp: { endpoint: "http://\${env:HOST}:\${env:PORT}" }`),
      ),
    ).toEqual([
      'exporters.otlp.endpoint: ${env:JAEGER_OTLP_ENDPOINT} is not set and has no default: set JAEGER_OTLP_ENDPOINT, or give a default as in ${env:JAEGER_OTLP_ENDPOINT:-value}',
      'exporters.otlphttp.endpoint: "http://${env:HOST}:${env:PORT}": ${env:HOST}, ${env:PORT} are not set and have no default: set HOST, PORT, or give a default as in ${env:HOST:-value}',
    ]);
  });

  it('says when a wrong value is the default of a variable that is not set', async () => {
    expect(
      await problems(
        withExporters(`  debug: {}
  otlp: { endpoint: "\${env:JAEGER_OTLP_ENDPOINT:-nowhere}" }`),
      ),
    ).toEqual([
      'exporters.otlp.endpoint: "nowhere" is not a host:port address such as "jaeger:4317" (the default of ${env:JAEGER_OTLP_ENDPOINT}, which is not set)',
    ]);
  });

  it('suggests the closest name for typos: settings, sections, types, references, values', async () => {
    expect(
      await problems(`
recievers: {}
receivers:
  otlp: { protocols: { grpc: { endpont: 127.0.0.1:0 } } }
exporters:
  otlp/jaeger: { endpoint: "jaeger:4317", retry_on_failure: { max_intervall: 5s } }
  debugg: {}
service:
  telemetry: { logs: { level: debgu }, metrics: { level: none } }
  pipelines:
    trace: { receivers: [otlp], exporters: [otlp/jaeger] }
    traces: { receivers: [otlp], exporters: [otlp/jager], procesors: [] }
`),
    ).toEqual([
      'recievers: unknown section (expected receivers, processors, exporters, connectors, extensions or service); did you mean "receivers"?',
      'receivers.otlp.protocols.grpc.endpont: unknown setting; did you mean "endpoint"?',
      'exporters.otlp/jaeger.retry_on_failure.max_intervall: unknown setting; did you mean "max_interval"?',
      'exporters.debugg: unknown exporter type "debugg"; did you mean "debug"?; known types: debug, file, otlp, otlphttp; connectors (under "connectors:"): llm_summary',
      'service.telemetry.logs.level: "debgu" is not one of "debug", "info", "warn", "error"; did you mean "debug"?',
      'service.pipelines.traces.procesors: unknown setting; did you mean "processors"?',
      'service.pipelines.trace: unknown signal "trace"; pipelines are traces, metrics or logs (optionally "traces/name"); did you mean "traces"?',
    ]);
  });

  it("keeps the message's own words and examples whole when the value occurs in them", async () => {
    const shipped = readFileSync(new URL('../../otel-config.yaml', import.meta.url), 'utf8');
    // Were: 'is not a the value of ${env:...}:port address such as ... "localthe value of ...:4317"'
    // and 'such as "http://the value of ${env:JAEGER_UI_URL}"'.
    expect(
      await problems(shipped, {
        HOURGLASS_TELEMETRY_ENDPOINT: 'host',
        JAEGER_UI_URL: 'localhost:16686',
      }),
    ).toEqual([
      'extensions.admin.jaeger_ui_url: must be an http(s) URL such as "http://localhost:16686" (set by JAEGER_UI_URL)',
      'service.telemetry.metrics.address: the value of ${env:HOURGLASS_TELEMETRY_ENDPOINT} is not a host:port address such as "0.0.0.0:4317" or "localhost:4317"',
    ]);
    // A value echoed on its own is still never shown, quoted or not.
    const secret = await problems(shipped, { HOURGLASS_LOG_LEVEL: SECRET, JAEGER_UI_URL: SECRET });
    expect(secret.join('\n')).not.toContain(SECRET);
    expect(secret).toHaveLength(2);
  });

  it('never looks for a value in the words that show another, or itself', async () => {
    // A value "value" was replaced inside "the value of ${env:C}" too: "the the value of ... of".
    const yaml = withExporters(
      '  debug: {}\n  otlp: { endpoint: "${env:D:-jaeger:4317}", compression: "${env:C}" }',
    );
    const shown = [
      'exporters.otlp.endpoint: the value of ${env:D} is not a host:port address such as "jaeger:4317"',
      'exporters.otlp.compression: the value of ${env:C} (a string) is not one of "gzip", "none"',
    ];
    expect(await problems(yaml, { C: 'value' })).toEqual([shown[1]]);
    expect(await problems(yaml, { C: '${env:C}' })).toEqual([shown[1]]);
    expect(await problems(yaml, { C: 'the value', D: 'value of' })).toEqual(shown);
  });

  it('says a port given alone needs a host, from the file or from a variable', async () => {
    const yaml = `
receivers:
  otlp: { protocols: { grpc: { endpoint: 4317 }, http: { endpoint: "\${env:HTTP_ENDPOINT}" } } }
exporters:
  debug: {}
service:
  telemetry: { metrics: { address: "\${env:TELEMETRY:-8888}" } }
  pipelines:
    traces: { receivers: [otlp], exporters: [debug] }
`;
    // A port alone is a YAML number: it was "expected a string, got number 4317".
    expect(await problems(yaml, { HTTP_ENDPOINT: '4318' })).toEqual([
      'receivers.otlp.protocols.grpc.endpoint: "4317" is a port without a host; write host:port, such as "0.0.0.0:4317" (every interface) or "localhost:4317"',
      'receivers.otlp.protocols.http.endpoint: the value of ${env:HTTP_ENDPOINT} is a port without a host; write host:port, such as "0.0.0.0:4317" (every interface) or "localhost:4317"',
      'service.telemetry.metrics.address: "8888" is a port without a host; write host:port, such as "0.0.0.0:4317" (every interface) or "localhost:4317" (the default of ${env:TELEMETRY}, which is not set)',
    ]);
  });

  it('suggests a configured component for a mistyped reference, even one that is itself invalid', async () => {
    expect(
      await problems(`
receivers:
  otlp: { protocols: { http: { endpoint: 127.0.0.1:0 } } }
exporters:
  otlp/jaeger: { endpoint: nowhere }
service:
  telemetry: { metrics: { level: none } }
  pipelines:
    traces: { receivers: [otlp], exporters: [otlp/jager] }
`),
    ).toEqual([
      'exporters.otlp/jaeger.endpoint: "nowhere" is not a host:port address such as "jaeger:4317"',
      'service.pipelines.traces.exporters: references exporter "otlp/jager" which is not configured; did you mean "otlp/jaeger"?',
    ]);
  });
});
