import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/component/errors.js';
import { builtinFactories } from '../../src/components.js';
import type { HostIdentity } from '../../src/config/addresses.js';
import { loadConfigText } from '../../src/config/load.js';
import { staticResolver } from '../../src/config/validate.js';

/**
 * No exporter may send to this process's own servers (a loop: every span comes back in, forever),
 * and no two servers may listen on one address. Checked when the config is loaded, so by both
 * `hourglass run` and `hourglass validate`.
 */
const resolver = staticResolver(builtinFactories());

/** A host named `myhost` with the interface address 10.1.2.3; `hourglass` resolves to it. */
const identity: HostIdentity = {
  names: new Set(['localhost', 'myhost']),
  addresses: new Set(['127.0.0.1', '::1', '10.1.2.3']),
  resolve: async (name) => (name === 'hourglass' ? ['10.1.2.3'] : []),
};

async function problems(yaml: string, env: Record<string, string> = {}): Promise<string[]> {
  try {
    await loadConfigText(yaml, 'test.yaml', resolver, env, { identity });
  } catch (err) {
    if (err instanceof ConfigError) return [...err.problems];
    throw err;
  }
  return [];
}

/** The shipped receiver addresses (0.0.0.0:4317 and :4318) and one exporter in `pipeline`. */
const sidecar = (exporter: string, pipeline = 'traces') => `
receivers:
  otlp: { protocols: { grpc: { endpoint: 0.0.0.0:4317 }, http: { endpoint: 0.0.0.0:4318 } } }
exporters:
  ${exporter}
service:
  pipelines:
    ${pipeline}: { receivers: [otlp], exporters: [${exporter.split(':')[0]}] }
  telemetry: { metrics: { address: 127.0.0.1:0 } }
`;

const LOOP_GRPC = `which is this process's own receiver (receivers.otlp.protocols.grpc.endpoint listens on 0.0.0.0:4317): the data would come back in and loop forever; point it at the backend (Jaeger, a Collector) instead`;
const LOOP_HTTP = LOOP_GRPC.replace('grpc', 'http').replace('4317', '4318');

describe('an exporter sending to this process is refused', () => {
  it.each([
    ['localhost:4317', 'localhost:4317'],
    ['127.0.0.1:4317', '127.0.0.1:4317'],
    ['0.0.0.0:4317', '0.0.0.0:4317'],
    ['[::1]:4317', '[::1]:4317'],
    ['[::]:4317', '[::]:4317'],
    ['http://localhost:4317', 'localhost:4317'],
    ['https://127.0.0.1:4317', '127.0.0.1:4317'],
    ['dns:///localhost:4317', 'localhost:4317'],
    ['dns://8.8.8.8/localhost:4317', 'localhost:4317'],
    ['myhost:4317', 'myhost:4317'],
    ['MYHOST:4317', 'myhost:4317'],
    ['10.1.2.3:4317', '10.1.2.3:4317'],
    ['hourglass:4317', 'hourglass:4317'],
    ['[::ffff:127.0.0.1]:4317', '127.0.0.1:4317'],
  ])('otlp to %s', async (endpoint, shown) => {
    expect(await problems(sidecar(`otlp/jaeger: { endpoint: "${endpoint}" }`))).toEqual([
      `exporters.otlp/jaeger.endpoint: sends to ${shown}, ${LOOP_GRPC}`,
    ]);
  });

  it('otlp to the HTTP receiver port (not even the same protocol)', async () => {
    expect(await problems(sidecar('otlp: { endpoint: "localhost:4318" }'))).toEqual([
      `exporters.otlp.endpoint: sends to localhost:4318, ${LOOP_HTTP}`,
    ]);
  });

  it.each([
    ['endpoint: "http://localhost:4318"', 'endpoint', 'localhost:4318'],
    ['endpoint: "http://127.0.0.1:4318/"', 'endpoint', '127.0.0.1:4318'],
    ['endpoint: "http://[::1]:4318/otlp"', 'endpoint', '[::1]:4318'],
    [
      'endpoint: "http://jaeger:4318", traces_endpoint: "http://myhost:4318/v1/traces"',
      'traces_endpoint',
      'myhost:4318',
    ],
  ])('otlphttp with %s', async (settings, setting, shown) => {
    expect(await problems(sidecar(`otlphttp: { ${settings} }`))).toEqual([
      `exporters.otlphttp.${setting}: sends to ${shown}, ${LOOP_HTTP}`,
    ]);
  });

  it('otlphttp whose base URL has no port: 80 for http, 443 for https', async () => {
    const yaml = `
receivers:
  otlp: { protocols: { http: { endpoint: 0.0.0.0:443 } } }
exporters:
  otlphttp: { endpoint: "https://localhost" }
service:
  pipelines: { traces: { receivers: [otlp], exporters: [otlphttp] } }
  telemetry: { metrics: { level: none } }
`;
    expect(await problems(yaml)).toEqual([
      `exporters.otlphttp.endpoint: sends to localhost:443, ${LOOP_HTTP.replace('0.0.0.0:4318', '0.0.0.0:443')}`,
    ]);
  });

  it('in any pipeline: metrics sent to the own receiver loop too', async () => {
    expect(
      await problems(sidecar('otlphttp: { endpoint: "http://localhost:4318" }', 'metrics')),
    ).toEqual([`exporters.otlphttp.endpoint: sends to localhost:4318, ${LOOP_HTTP}`]);
  });

  it('names the variable the endpoint came from, set or defaulted', async () => {
    const yaml = sidecar(
      'otlp/jaeger: { endpoint: "${env:JAEGER_OTLP_ENDPOINT:-localhost:4317}" }',
    );
    expect(await problems(yaml)).toEqual([
      `exporters.otlp/jaeger.endpoint: sends to localhost:4317, ${LOOP_GRPC} (the default of \${env:JAEGER_OTLP_ENDPOINT}, which is not set: set JAEGER_OTLP_ENDPOINT to change it)`,
    ]);
    // A set variable's value is never echoed (it may be a secret): the message names it.
    expect(await problems(yaml, { JAEGER_OTLP_ENDPOINT: '127.0.0.1:4317' })).toEqual([
      `exporters.otlp/jaeger.endpoint: sends to the value of \${env:JAEGER_OTLP_ENDPOINT}, ${LOOP_GRPC}`,
    ]);
    expect(await problems(yaml, { JAEGER_OTLP_ENDPOINT: 'jaeger:4317' })).toEqual([]);
  });

  it('never echoes a set variable embedded in a longer value: shows the value as written', async () => {
    const found = await problems(
      `
receivers:
  otlp: { protocols: { grpc: { endpoint: 0.0.0.0:4317 }, http: { endpoint: "\${env:HOST}:4318" } } }
  otlp/b: { protocols: { grpc: { endpoint: "\${env:HOST}:4317" } } }
exporters:
  otlp: { endpoint: "http://\${env:HOST}:4317", tls: { insecure: true } }
  otlphttp: { endpoint: "http://127.0.0.1:4318" }
service:
  pipelines: { traces: { receivers: [otlp, otlp/b], exporters: [otlp, otlphttp] } }
  telemetry: { metrics: { address: 127.0.0.1:0 } }
`,
      { HOST: 'myhost' },
    );
    expect(found).toEqual([
      'receivers.otlp/b.protocols.grpc.endpoint: "${env:HOST}:4317" is also where receivers.otlp.protocols.grpc.endpoint listens (0.0.0.0:4317): two servers cannot listen on one address; give one of them another port',
      `exporters.otlp.endpoint: sends to "http://\${env:HOST}:4317", ${LOOP_GRPC}`,
      `exporters.otlphttp.endpoint: sends to 127.0.0.1:4318, ${LOOP_HTTP.replace('0.0.0.0:4318', '"${env:HOST}:4318"')}`,
    ]);
    expect(found.join('\n')).not.toContain('myhost');
  });

  it('a receiver bound to one interface still counts: every name of this host is the same host', async () => {
    const yaml = `
receivers:
  otlp: { protocols: { grpc: { endpoint: 127.0.0.1:4317 } } }
exporters:
  otlp: { endpoint: "myhost:4317" }
service:
  pipelines: { traces: { receivers: [otlp], exporters: [otlp] } }
  telemetry: { metrics: { level: none } }
`;
    expect(await problems(yaml)).toEqual([
      `exporters.otlp.endpoint: sends to myhost:4317, ${LOOP_GRPC.replace('0.0.0.0', '127.0.0.1')}`,
    ]);
  });

  it('sending to its own admin API or telemetry endpoint is refused too (not an OTLP server)', async () => {
    const yaml = `
extensions:
  admin: { endpoint: localhost:8890 }
receivers:
  otlp: { protocols: { http: { endpoint: 127.0.0.1:0 } } }
exporters:
  otlphttp/a: { endpoint: "http://localhost:8890" }
  otlphttp/b: { endpoint: "http://127.0.0.1:8888" }
service:
  extensions: [admin]
  pipelines: { traces: { receivers: [otlp], exporters: [otlphttp/a, otlphttp/b] } }
  telemetry: { metrics: { address: 0.0.0.0:8888 } }
`;
    expect(await problems(yaml)).toEqual([
      "exporters.otlphttp/a.endpoint: sends to localhost:8890, which is this process's own extension (extensions.admin.endpoint listens on localhost:8890), not an OTLP server; point it at the backend (Jaeger, a Collector) instead",
      "exporters.otlphttp/b.endpoint: sends to 127.0.0.1:8888, which is this process's own telemetry endpoint (service.telemetry.metrics.address listens on 0.0.0.0:8888), not an OTLP server; point it at the backend (Jaeger, a Collector) instead",
    ]);
  });

  it.each(['jaeger:4317', 'localhost:14317', '10.9.9.9:4317', 'dns:///collector.example.com:4317'])(
    'otlp to %s is accepted',
    async (endpoint) => {
      expect(await problems(sidecar(`otlp: { endpoint: "${endpoint}" }`))).toEqual([]);
    },
  );

  it('otlphttp whose traces go elsewhere is accepted in a traces pipeline', async () => {
    expect(
      await problems(
        sidecar(
          'otlphttp: { endpoint: "http://localhost:4318", traces_endpoint: "http://jaeger:4318/v1/traces" }',
        ),
      ),
    ).toEqual([]);
  });

  it('receivers not in any pipeline do not listen, so they are not checked', async () => {
    const yaml = `
receivers:
  otlp: { protocols: { grpc: { endpoint: 127.0.0.1:0 } } }
  otlp/unused: { protocols: { grpc: { endpoint: 0.0.0.0:4317 } } }
exporters:
  otlp: { endpoint: "localhost:4317" }
service:
  pipelines: { traces: { receivers: [otlp], exporters: [otlp] } }
  telemetry: { metrics: { level: none } }
`;
    expect(await problems(yaml)).toEqual([]);
  });
});

describe('two servers on one address are refused', () => {
  it('receivers, the admin API and the telemetry endpoint, each pair once', async () => {
    const yaml = `
extensions:
  admin: { endpoint: "localhost:4318" }
receivers:
  otlp: { protocols: { grpc: { endpoint: 0.0.0.0:4317 }, http: { endpoint: 0.0.0.0:4318 } } }
  otlp/b: { protocols: { grpc: { endpoint: "127.0.0.1:4317" }, http: { endpoint: "[::]:8888" } } }
exporters:
  debug: {}
service:
  extensions: [admin]
  pipelines: { traces: { receivers: [otlp, otlp/b], exporters: [debug] } }
  telemetry: { metrics: { address: "\${env:TELEMETRY:-localhost:8888}" } }
`;
    expect(await problems(yaml)).toEqual([
      'receivers.otlp/b.protocols.grpc.endpoint: 127.0.0.1:4317 is also where receivers.otlp.protocols.grpc.endpoint listens (0.0.0.0:4317): two servers cannot listen on one address; give one of them another port',
      'extensions.admin.endpoint: localhost:4318 is also where receivers.otlp.protocols.http.endpoint listens (0.0.0.0:4318): two servers cannot listen on one address; give one of them another port',
      'service.telemetry.metrics.address: localhost:8888 is also where receivers.otlp/b.protocols.http.endpoint listens ([::]:8888): two servers cannot listen on one address; give one of them another port (the default of ${env:TELEMETRY}, which is not set: set TELEMETRY to change it)',
    ]);
  });

  it('port 0, different ports and different specific addresses do not clash', async () => {
    const yaml = `
receivers:
  otlp: { protocols: { grpc: { endpoint: 127.0.0.1:0 }, http: { endpoint: 127.0.0.1:0 } } }
  otlp/b: { protocols: { grpc: { endpoint: 127.0.0.1:4317 }, http: { endpoint: 127.0.0.2:4317 } } }
exporters:
  debug: {}
service:
  pipelines: { traces: { receivers: [otlp, otlp/b], exporters: [debug] } }
  telemetry: { metrics: { address: 127.0.0.1:0 } }
`;
    expect(await problems(yaml)).toEqual([]);
  });
});
