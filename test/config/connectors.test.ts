import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { configProblems } from '../helpers/config-problems.js';

const problems = configProblems;

const HEAD = `
receivers: { otlp: { protocols: { http: { endpoint: 127.0.0.1:0 } } } }
exporters: { debug: {} }
`;
const USAGE =
  'list it under "exporters" of the traces pipeline (and of the metrics pipeline, for its metrics window) and under "receivers" of a pipeline that sends the summary spans on, e.g. "traces/summaries: {receivers: [llm_summary], exporters: [otlp/jaeger]}" (see src/connectors/llm-summary/README.md)';

describe('connectors', () => {
  const dirs: string[] = [];
  afterEach(() => {
    vi.restoreAllMocks();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('hourglass validate tells a config from before connectors what to write instead', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hourglass-connectors-'));
    dirs.push(dir);
    const file = join(dir, 'old.yaml');
    writeFileSync(
      file,
      `${HEAD}  llm_summary: {}
service:
  pipelines:
    traces: { receivers: [otlp], exporters: [debug, llm_summary] }
`.replace('exporters: { debug: {} }\n', 'exporters:\n  debug: {}\n'),
    );
    const err: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((s) => (err.push(String(s)), true));
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    expect(await main(['validate', '--config', file])).not.toBe(0);
    expect(err.join('')).toContain(
      `exporters.llm_summary: "llm_summary" is a connector, not an exporter: move "exporters.llm_summary" under "connectors:" and ${USAGE}`,
    );
  });

  it('must be used both ways, in pipelines of the signals it supports', async () => {
    expect(
      await problems(`${HEAD}connectors: { llm_summary: {} }
service:
  pipelines:
    traces: { receivers: [otlp], exporters: [llm_summary] }
    logs: { receivers: [otlp], exporters: [debug, llm_summary] }
`),
    ).toEqual([
      'service.pipelines.logs.exporters: connector "llm_summary" does not support logs as exporter',
      `connectors.llm_summary: exports in traces, logs but no pipeline lists it under "receivers"; ${USAGE}`,
    ]);
    expect(
      await problems(`${HEAD}connectors: { llm_summary: {} }
service:
  pipelines:
    traces: { receivers: [otlp], exporters: [debug] }
    metrics: { receivers: [llm_summary], exporters: [debug] }
`),
    ).toEqual([
      'service.pipelines.metrics.receivers: connector "llm_summary" does not support metrics as receiver',
      `connectors.llm_summary: receives in metrics but no pipeline lists it under "exporters"; ${USAGE}`,
    ]);
  });

  it('refuses a pipeline that would receive its own data again, and an id used twice', async () => {
    expect(
      await problems(`${HEAD}connectors: { llm_summary: {} }
service:
  pipelines:
    traces: { receivers: [otlp], exporters: [llm_summary] }
    traces/summaries: { receivers: [llm_summary], exporters: [debug, llm_summary] }
`),
    ).toEqual([
      'service.pipelines: traces/summaries -> llm_summary -> traces/summaries: a pipeline would receive its own data again through connectors; break the cycle',
    ]);
    expect(
      await problems(`
receivers: { otlp: { protocols: { http: { endpoint: 127.0.0.1:0 } } } }
exporters: { debug: {}, llm_summary/x: {} }
connectors: { debug: {} }
service:
  pipelines:
    traces: { receivers: [otlp], exporters: [debug] }
`),
    ).toEqual([
      `exporters.llm_summary/x: "llm_summary" is a connector, not an exporter: move "exporters.llm_summary/x" under "connectors:" and ${USAGE}`,
      'connectors.debug: unknown connector type "debug"; known types: llm_summary',
    ]);
  });
});
