import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { OtlpBatch } from '../../../src/component/consumer.js';
import { makeDebugExporterFactory } from '../../../src/exporters/debug/factory.js';
import { logsBatch, metricsBatch, spanIdsOf, traceBatch } from '../batches.js';
import { HOST, ObservedClock, harness } from '../harness.js';

/** A stdout stand-in that keeps what is written; `tty` makes it look like a terminal. */
class Capture extends Writable {
  text = '';
  isTTY: boolean;
  private held: Array<() => void> | undefined;

  constructor(options: { tty?: boolean; slow?: boolean } = {}) {
    super({ highWaterMark: 16 });
    this.isTTY = options.tty ?? false;
    if (options.slow) this.held = [];
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    if (this.held) this.held.push(done);
    else done();
  }

  /** Completes held writes (a slow terminal catching up). */
  release(): void {
    for (const done of this.held?.splice(0) ?? []) done();
    this.held = undefined;
  }
}

async function make(
  config: Record<string, unknown>,
  out = new Capture(),
  signal: 'traces' | 'metrics' | 'logs' = 'traces',
) {
  const clock = new ObservedClock();
  const h = harness('debug', clock);
  const factory = makeDebugExporterFactory(() => out);
  const exporter = factory.create(h.settings, factory.configSchema.parse(config), signal);
  await exporter.start(HOST);
  return { exporter, out, clock, h };
}

const anomalous = (): OtlpBatch =>
  traceBatch(
    [
      { name: 'GET /cart', durationMs: 12 },
      {
        name: 'POST /checkout',
        durationMs: 1250,
        statusCode: 2,
        attributes: {
          'anomaly.severity': 'SEV2',
          'anomaly.severity_label': 'major',
          'anomaly.ratio': 5.21,
          'anomaly.baseline.mean_ms': 240.04,
          'anomaly.baseline.window': 'Mon 00:00-01:00 UTC',
        },
      },
    ],
    'checkout',
  );

describe('debug exporter', () => {
  it('basic: one summary line per batch, for every signal', async () => {
    const out = new Capture();
    for (const [signal, batch] of [
      ['traces', traceBatch(5)],
      ['metrics', metricsBatch(3)],
      ['logs', logsBatch(4)],
    ] as const) {
      const { exporter } = await make({}, out, signal);
      await exporter.consume(batch);
    }
    expect(out.text.trimEnd().split('\n')).toEqual([
      '2026-01-05T00:00:00.000Z debug traces: 1 resource spans, 5 spans',
      '2026-01-05T00:00:00.000Z debug metrics: 1 resource metrics, 3 data points',
      '2026-01-05T00:00:00.000Z debug logs: 1 resource logs, 4 log records',
    ]);
  });

  it('normal: one line per span, anomalies flagged with severity, ratio and baseline', async () => {
    const { exporter, out } = await make({ verbosity: 'normal' });
    const batch = anomalous();
    await exporter.consume(batch);
    const [first, second] = spanIdsOf(batch);
    const lines = out.text.trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[1]).toMatch(
      new RegExp(`^  checkout "GET /cart" 12\\.000ms UNSET trace=[0-9a-f]{32} span=${first!}$`),
    );
    expect(lines[2]).toMatch(
      new RegExp(
        `^!!   checkout "POST /checkout" 1250\\.000ms ERROR trace=[0-9a-f]{32} span=${second!} ANOMALY SEV2 \\(major\\): 5\\.21x baseline 240\\.0ms \\[Mon 00:00-01:00 UTC\\]$`,
      ),
    );
  });

  it('normal: an errors or traffic verdict shows its own numbers, not a duration ratio it has not', async () => {
    const { exporter, out } = await make({ verbosity: 'normal' });
    const verdict = { 'anomaly.severity': 'SEV3', 'anomaly.severity_label': 'moderate' };
    const window = { 'anomaly.baseline.window': 'Mon 09:00-10:00 UTC' };
    await exporter.consume(
      traceBatch(
        [
          {
            name: 'POST /pay',
            durationMs: 2,
            statusCode: 2,
            attributes: {
              ...verdict,
              'anomaly.detector': 'errors',
              'anomaly.errors.rate': 0.31,
              'anomaly.errors.baseline_rate': 0.009,
              'anomaly.errors.type': 'CardDeclined',
              ...window,
            },
          },
          {
            name: 'GET /cart',
            durationMs: 12,
            attributes: {
              ...verdict,
              'anomaly.detector': 'traffic',
              'anomaly.traffic.rate': 610,
              'anomaly.traffic.baseline_rate': 118.4,
              ...window,
            },
          },
        ],
        'checkout',
      ),
    );
    const lines = out.text.trimEnd().split('\n');
    expect(lines[1]).toMatch(
      / ANOMALY SEV3 \(moderate\): errors 31% of spans, usually 0\.90% \(CardDeclined\) \[Mon 09:00-10:00 UTC\]$/,
    );
    expect(lines[2]).toMatch(
      / ANOMALY SEV3 \(moderate\): traffic 610 spans\/min, usually 118 \[Mon 09:00-10:00 UTC\]$/,
    );
  });

  it('normal: colours anomalies on a terminal', async () => {
    const { exporter, out } = await make({ verbosity: 'normal' }, new Capture({ tty: true }));
    await exporter.consume(anomalous());
    const lines = out.text.trimEnd().split('\n');
    expect(lines[1]).not.toContain('\x1b[');
    expect(lines[2]!.startsWith('\x1b[31m!! ')).toBe(true);
    expect(lines[2]!.endsWith('\x1b[0m')).toBe(true);
  });

  it('normal: one line per metric and per log record', async () => {
    const out = new Capture();
    const m = await make({ verbosity: 'normal' }, out, 'metrics');
    await m.exporter.consume(metricsBatch(3, 'queue.depth'));
    const l = await make({ verbosity: 'normal' }, out, 'logs');
    await l.exporter.consume(logsBatch(2));
    expect(
      out.text
        .trimEnd()
        .split('\n')
        .filter((x) => x.startsWith('  ')),
    ).toEqual([
      '  checkout queue.depth gauge: 3 data points',
      '  checkout INFO order 0 placed',
      '  checkout INFO order 1 placed',
    ]);
  });

  it('detailed: pretty OTLP/JSON', async () => {
    const { exporter, out } = await make({ verbosity: 'detailed' });
    const batch = traceBatch(2);
    await exporter.consume(batch);
    const [header, ...json] = out.text.split('\n');
    expect(header).toBe('2026-01-05T00:00:00.000Z debug traces:');
    const doc = JSON.parse(json.join('\n')) as {
      resourceSpans: Array<{ scopeSpans: Array<{ spans: Array<{ spanId: string }> }> }>;
    };
    expect(doc.resourceSpans[0]!.scopeSpans[0]!.spans.map((s) => s.spanId)).toEqual(
      spanIdsOf(batch),
    );
    expect(json[1]).toBe('  "resourceSpans": [');
  });

  it('samples per second: sampling_initial, then one in sampling_thereafter', async () => {
    const { exporter, out, clock, h } = await make({ sampling_initial: 2, sampling_thereafter: 3 });
    for (let i = 0; i < 10; i++) await exporter.consume(traceBatch(i + 1));
    clock.advance(1000);
    await exporter.consume(traceBatch(20));
    const counts = out.text
      .trimEnd()
      .split('\n')
      .map((l) => Number(/, (\d+) spans$/.exec(l)![1]));
    expect(counts).toEqual([1, 2, 5, 8, 20]);
    expect(await h.metric('otelcol_exporter_sent_spans_total')).toBe(55 + 20);
  });

  it('waits for a slow stdout instead of buffering without bound', async () => {
    const out = new Capture({ slow: true });
    const { exporter } = await make({ verbosity: 'detailed' }, out);
    let done = false;
    const p = exporter.consume(traceBatch(50)).then(() => (done = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(done).toBe(false);
    out.release();
    await p;
    expect(done).toBe(true);
  });
});
