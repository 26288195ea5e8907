import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { ConfigError } from '../../src/component/errors.js';
import { builtinFactories } from '../../src/components.js';
import { loadConfigFile, loadConfigText } from '../../src/config/load.js';
import { pluginResolver, type ModuleLoader } from '../../src/config/plugins.js';
import { startSidecar, type Sidecar } from '../../src/main.js';
import type { OtlpReceiver } from '../../src/receiver/otlp/otlp-receiver.js';
import { makeSpans } from '../helpers/spans.js';
import { testLogger } from '../helpers/sidecar.js';

const EXAMPLE = fileURLToPath(new URL('../../examples/plugins/batch-log.js', import.meta.url));
const dirs: string[] = [];
const sidecars: Sidecar[] = [];
afterEach(async () => {
  await Promise.all(sidecars.splice(0).map((s) => s.shutdown()));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  vi.restoreAllMocks();
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'hourglass-plugins-'));
  dirs.push(d);
  return d;
}

function configWith(exporter: string, pipelineExporters = '[plugin/log]'): string {
  return `
receivers:
  otlp:
    protocols:
      http: { endpoint: 127.0.0.1:0 }
exporters:
${exporter}
service:
  pipelines:
    traces: { receivers: [otlp], exporters: ${pipelineExporters} }
  telemetry: { metrics: { level: none } }
`;
}

async function problems(yaml: string, dir: string, load?: ModuleLoader): Promise<string[]> {
  try {
    await loadConfigText(yaml, 'test.yaml', pluginResolver(builtinFactories(), dir, load), {});
  } catch (err) {
    if (err instanceof ConfigError) return [...err.problems];
    throw err;
  }
  throw new Error('the config was accepted');
}

describe('exporter plugins', () => {
  it('runs the example plugin from a path relative to the config file, in a real sidecar', async () => {
    const dir = tempDir();
    const out = join(dir, 'out', 'batches.jsonl');
    const configPath = join(dir, 'hourglass.yaml');
    writeFileSync(
      configPath,
      configWith(`  plugin/log:
    module: ${relative(dir, EXAMPLE)}
    path: ${out}`),
    );
    const sidecar = await startSidecar({ configPath, logger: testLogger(), env: {} });
    sidecars.push(sidecar);
    const http = sidecar.service.find<OtlpReceiver>('receiver', 'otlp')!.addresses().http!;
    const client = new OTLPTraceExporter({ url: `http://${http}/v1/traces` });
    const spans = makeSpans('cart', [{}, {}, {}]);
    const result = await new Promise<{ code: number }>((resolve) => client.export(spans, resolve));
    expect(result.code).toBe(0);
    await client.shutdown();
    await sidecar.shutdown();
    const lines = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ exporter: 'plugin/log', signal: 'traces', items: 3 });
    expect(lines[0]!['bytes']).toBeGreaterThan(100);
  });

  it('validates the plugin settings with its own schema, each problem with its path', async () => {
    expect(
      await problems(
        configWith(`  plugin/log:
    module: ${EXAMPLE}
    include_head_bytes: 5000
    colour: blue`),
        tempDir(),
      ),
    ).toEqual([
      'exporters.plugin/log.path: expected a string, got nothing',
      'exporters.plugin/log.include_head_bytes: must be at most 1024, got number 5000',
      'exporters.plugin/log.colour: unknown setting',
    ]);
  });

  it('says what is wrong with the module setting and with modules that are not plugins', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'number.js'), 'export default 42;\n');
    writeFileSync(
      join(dir, 'processor.js'),
      "export default { kind: 'processor', type: 'x', signals: ['traces'] };\n",
    );
    writeFileSync(join(dir, 'throws.js'), "throw new Error('boom at load');\n");
    writeFileSync(
      join(dir, 'no-schema.js'),
      "export const factory = { kind: 'exporter', type: 'x', signals: ['traces'], create() {} };\n",
    );
    const yaml = configWith(
      `  plugin/none: {}
  plugin/missing: { module: ./missing.js }
  plugin/number: { module: ./number.js }
  plugin/processor: { module: ./processor.js }
  plugin/throws: { module: ./throws.js }
  plugin/noschema: { module: ./no-schema.js }`,
      '[plugin/none]',
    );
    const found = await problems(yaml, dir);
    expect(found[0]).toBe(
      'exporters.plugin/none: "module" must name the module that exports the exporter factory (a path relative to the config file, an absolute path or a package name), got nothing',
    );
    expect(found[1]).toMatch(
      /^exporters\.plugin\/missing: cannot load module "\.\/missing\.js" \(file:\/\/.*\/missing\.js\): Cannot find module/,
    );
    expect(found.slice(2)).toEqual([
      `exporters.plugin/number: module "./number.js" does not export an exporter factory (got number); export default { kind: 'exporter', type, signals, configSchema, create }`,
      `exporters.plugin/processor: module "./processor.js" does not export an exporter factory (kind is "processor", not "exporter"); export default { kind: 'exporter', type, signals, configSchema, create }`,
      `exporters.plugin/throws: cannot load module "./throws.js" (${pathToFileURL(join(dir, 'throws.js')).href}): boom at load`,
      `exporters.plugin/noschema: module "./no-schema.js" does not export an exporter factory (configSchema is not a zod schema); export default { kind: 'exporter', type, signals, configSchema, create }`,
    ]);
  });

  it('loads a module once per build and calls an exported factory function once', async () => {
    const dir = tempDir();
    const example = (await import(pathToFileURL(EXAMPLE).href)) as { default: unknown };
    let made = 0;
    const load = vi.fn<ModuleLoader>(async () => ({
      default: () => {
        made++;
        return example.default;
      },
    }));
    const yaml = configWith(
      `  plugin/a: { module: ./p.js, path: ${join(dir, 'a.jsonl')} }
  plugin/b: { module: ./p.js, path: ${join(dir, 'b.jsonl')} }`,
      '[plugin/a, plugin/b]',
    );
    const config = await loadConfigText(
      yaml,
      'test.yaml',
      pluginResolver(builtinFactories(), dir, load),
      {},
    );
    expect(load).toHaveBeenCalledTimes(1);
    expect(made).toBe(1);
    expect(config.exporters.get('plugin/a')!.factory).toBe(
      config.exporters.get('plugin/b')!.factory,
    );
    expect(config.exporters.get('plugin/b')!.config).toEqual({
      path: join(dir, 'b.jsonl'),
      include_head_bytes: 0,
    });
  });

  it('loads the llm_summary connector itself as a plugin module', async () => {
    const dir = tempDir();
    const module = fileURLToPath(
      new URL('../../src/connectors/llm-summary/factory.ts', import.meta.url),
    );
    const yaml = `
receivers:
  otlp:
    protocols:
      http: { endpoint: 127.0.0.1:0 }
exporters:
  debug: {}
connectors:
  plugin/summaries: { module: ${module}, storage: ${join(dir, 's.db')} }
service:
  pipelines:
    traces: { receivers: [otlp], exporters: [plugin/summaries] }
    traces/summaries: { receivers: [plugin/summaries], exporters: [debug] }
  telemetry: { metrics: { level: none } }
`;
    const config = await loadConfigText(
      yaml,
      'test.yaml',
      pluginResolver(builtinFactories(), dir),
      {},
    );
    expect(config.connectors.get('plugin/summaries')!.factory.type).toBe('llm_summary');
    // The same module configured as an exporter: told where it belongs.
    await expect(
      loadConfigText(
        configWith(`  plugin/summaries: { module: ${module} }`, '[plugin/summaries]'),
        'test.yaml',
        pluginResolver(builtinFactories(), dir),
        {},
      ),
    ).rejects.toThrow(
      `exporters.plugin/summaries: module "${module}" exports a connector factory; configure it under "connectors:", not "exporters:"`,
    );
  });

  it('hourglass validate finds plugin modules without loading them; --load-plugins checks their settings', async () => {
    const dir = tempDir();
    const good = join(dir, 'good.yaml');
    const bad = join(dir, 'bad.yaml');
    const wrong = join(dir, 'wrong.yaml');
    writeFileSync(good, configWith(`  plugin/log: { module: ${EXAMPLE}, path: ./x.jsonl }`));
    writeFileSync(bad, configWith(`  plugin/log: { module: ./nope.js, path: ./x.jsonl }`));
    writeFileSync(wrong, configWith(`  plugin/log: { module: ${EXAMPLE}, colour: blue }`));
    const out: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((s) => (out.push(String(s)), true));
    vi.spyOn(process.stderr, 'write').mockImplementation((s) => (out.push(String(s)), true));
    const validate = async (...args: string[]) => {
      out.length = 0;
      return main(['validate', ...args]);
    };
    expect(await validate('--config', good)).toBe(0);
    expect(out.join('')).toContain('valid (1 receivers, 0 processors, 1 exporters');
    expect(await validate('--config', bad)).toBe(1);
    expect(out.join('')).toContain(
      `exporters.plugin/log: cannot load module "./nope.js" (${pathToFileURL(join(dir, 'nope.js')).href}): no such file`,
    );
    // Its settings are the module's to check: only once it is loaded.
    expect(await validate('--config', wrong)).toBe(0);
    expect(out.join('')).toContain('its settings were not checked');
    expect(await validate('--config', wrong, '--load-plugins')).toBe(1);
    expect(out.join('')).toContain('exporters.plugin/log.colour: unknown setting');
    expect(await validate('--config', good, '--load-plugins')).toBe(0);
    expect(await validate('--config', bad, '--load-plugins')).toBe(1);
    expect(out.join('')).toContain('exporters.plugin/log: cannot load module "./nope.js"');
  });

  it('a config file loaded by path resolves relative modules against its own directory', async () => {
    const dir = tempDir();
    const file = join(dir, 'c.yaml');
    writeFileSync(file, configWith(`  plugin/log: { module: ./sub/p.js, path: ./x.jsonl }`));
    await expect(loadConfigFile(file, pluginResolver(builtinFactories(), dir), {})).rejects.toThrow(
      `cannot load module "./sub/p.js" (${pathToFileURL(join(dir, 'sub/p.js')).href})`,
    );
  });
});
