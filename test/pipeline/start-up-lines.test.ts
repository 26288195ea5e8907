import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { builtinFactories } from '../../src/components.js';
import { loadConfigText } from '../../src/config/load.js';
import { staticResolver } from '../../src/config/validate.js';
import { startFromConfig, type Sidecar } from '../../src/main.js';
import type { OtlpReceiver } from '../../src/receiver/otlp/otlp-receiver.js';
import { createLogger } from '../../src/telemetry/logger.js';
import { OtlpSink } from '../helpers/otlp-sink.js';
import { traceRequest } from '../helpers/spans.js';

/**
 * What a newcomer reads when the backend is not where the config says: at start-up one line per
 * network exporter saying where it sends and which setting decides it; when it cannot be reached,
 * one line naming the setting to change (the environment variable, when the value came from one).
 */
const sidecars: Sidecar[] = [];
afterEach(async () => {
  await Promise.all(sidecars.splice(0).map((s) => s.shutdown()));
});

interface Line {
  level: string;
  msg: string;
  component?: string;
}

async function start(yaml: string, env: Record<string, string>) {
  const lines: Line[] = [];
  const waiters = new Set<() => void>();
  const out = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n').filter(Boolean))
        lines.push(JSON.parse(l) as Line);
      for (const w of waiters) w();
      done();
    },
  });
  const config = await loadConfigText(yaml, 'test.yaml', staticResolver(builtinFactories()), env);
  const sidecar = await startFromConfig(config, { logger: createLogger('info', out) });
  sidecars.push(sidecar);
  const http = sidecar.service.find<OtlpReceiver>('receiver', 'otlp')!.addresses().http!;
  const waitFor = (match: (l: Line) => boolean) =>
    new Promise<Line>((resolve) => {
      const check = () => {
        const found = lines.find(match);
        if (!found) return;
        waiters.delete(check);
        resolve(found);
      };
      waiters.add(check);
      check();
    });
  return { lines, http, waitFor };
}

describe('start-up and unreachable-target lines', () => {
  it('otlphttp with traces_endpoint from a variable: where it sends, then the variable to change', async () => {
    const down = await OtlpSink.start();
    const url = `${down.httpEndpoint}/v1/traces`;
    await down.close(); // nothing listens there
    const { lines, http, waitFor } = await start(
      `
receivers: { otlp: { protocols: { http: { endpoint: 127.0.0.1:0 } } } }
exporters:
  otlphttp/backend:
    endpoint: http://backend.invalid:4318
    traces_endpoint: \${env:BACKEND_TRACES_URL}
    retry_on_failure: { initial_interval: 10s }
  debug: {}
service:
  pipelines:
    traces: { receivers: [otlp], exporters: [otlphttp/backend] }
    logs: { receivers: [otlp], exporters: [debug] }
  telemetry: { metrics: { level: none } }
`,
      { BACKEND_TRACES_URL: url },
    );
    const sending = lines.filter((l) => l.msg.startsWith('sending '));
    expect(sending).toEqual([
      expect.objectContaining({
        level: 'info',
        component: 'exporter/otlphttp/backend',
        msg: `sending traces to ${url} (BACKEND_TRACES_URL)`,
      }),
    ]);
    const res = await fetch(`http://${http}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf' },
      body: traceRequest(2),
    });
    expect(res.status).toBe(200);
    const warning = await waitFor((l) => l.msg.startsWith('cannot export to'));
    expect(warning.level).toBe('warn');
    expect(warning.msg).toMatch(
      new RegExp(
        `^cannot export to ${url.replace(/[.]/g, '\\.')}: .*; data is kept in the sending queue and retried until the downstream is back; if it is elsewhere, set BACKEND_TRACES_URL \\(exporters\\.otlphttp/backend\\.traces_endpoint\\)$`,
      ),
    );
  });

  it('a literal endpoint is named by its path, one line per destination, credentials never shown', async () => {
    const { lines } = await start(
      `
receivers: { otlp: { protocols: { http: { endpoint: 127.0.0.1:0 } } } }
exporters:
  otlp/jaeger: { endpoint: "jaeger.invalid:4317" }
  otlphttp: { endpoint: "https://user:pa55word@collector.invalid" }
service:
  pipelines:
    traces: { receivers: [otlp], exporters: [otlp/jaeger, otlphttp] }
    metrics: { receivers: [otlp], exporters: [otlphttp] }
  telemetry: { metrics: { level: none } }
`,
      {},
    );
    expect(lines.filter((l) => l.msg.startsWith('sending ')).map((l) => l.msg)).toEqual([
      'sending traces to jaeger.invalid:4317 (exporters.otlp/jaeger.endpoint)',
      // Credentials are shown as every log line of the process shows them: replaced, not removed.
      'sending traces to https://[REDACTED]@collector.invalid/v1/traces (exporters.otlphttp.endpoint)',
      'sending metrics to https://[REDACTED]@collector.invalid/v1/metrics (exporters.otlphttp.endpoint)',
    ]);
    expect(JSON.stringify(lines)).not.toContain('pa55word');
    expect(JSON.stringify(lines)).not.toContain('user:');
  });
});
