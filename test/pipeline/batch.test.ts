import { describe, expect, it } from 'vitest';
import type { OtlpBatch } from '../../src/component/consumer.js';
import { RefusedError } from '../../src/component/errors.js';
import { BatchProcessor } from '../../src/pipeline/batch/batch-processor.js';
import { batchSchema } from '../../src/pipeline/batch/config.js';
import { indexSpans, hexAt } from '../../src/otlp/trace-index.js';
import { SelfMetrics } from '../../src/telemetry/self-metrics.js';
import { CaptureExporter } from '../helpers/capture-exporter.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { testLogger } from '../helpers/sidecar.js';
import { traceRequest } from '../helpers/spans.js';

function setup(raw: Record<string, unknown>) {
  const clock = new FakeClock();
  const next = new CaptureExporter();
  const metrics = new SelfMetrics({ processMetrics: false });
  const settings = { id: 'batch', logger: testLogger(), clock, metrics };
  const processor = new BatchProcessor(settings, batchSchema.parse(raw), 'traces', next);
  return { clock, next, processor, metrics };
}

const batch = (n: number): OtlpBatch => ({ signal: 'traces', bytes: traceRequest(n), items: n });
const spanIds = (batches: readonly OtlpBatch[]) =>
  batches.flatMap((b) => indexSpans(b.bytes).spans.map((s) => hexAt(b.bytes, s.spanIdAt, 8)));

describe('batch processor', () => {
  it('sends when send_batch_size items are gathered, as one merged request', async () => {
    const { next, processor } = setup({ send_batch_size: 500 });
    const inputs = [batch(300), batch(300)];
    for (const b of inputs) await processor.consume(b);
    expect(next.batches.map((b) => b.items)).toEqual([600]);
    expect(spanIds(next.batches)).toEqual(spanIds(inputs));
  });

  it('sends a partial batch after the timeout', async () => {
    const { clock, next, processor } = setup({ send_batch_size: 500, timeout: '200ms' });
    await processor.consume(batch(10));
    clock.advance(199);
    expect(next.batches).toHaveLength(0);
    clock.advance(1);
    expect(next.batches.map((b) => b.items)).toEqual([10]);
  });

  it('splits to send_batch_max_size without losing or reordering spans', async () => {
    const { next, processor } = setup({ send_batch_size: 200, send_batch_max_size: 300 });
    const input = batch(1000);
    await processor.consume(input);
    await processor.shutdown();
    expect(next.batches.map((b) => b.items)).toEqual([300, 300, 300, 100]);
    expect(spanIds(next.batches)).toEqual(spanIds([input]));
  });

  it('keeps and retries a batch the next component refuses, refusing new data past max_pending_items', async () => {
    const { clock, next, processor } = setup({ send_batch_size: 100, max_pending_items: 250 });
    next.failWith = new RefusedError('queue is full', 1000);
    await processor.consume(batch(100)); // sent and refused: held for retry
    await processor.consume(batch(100)); // sent and refused: held
    await Promise.resolve();
    await expect(processor.consume(batch(100))).rejects.toBeInstanceOf(RefusedError);
    next.failWith = undefined;
    clock.advance(1000);
    await next.waitForItems(200);
    await new Promise((resolve) => setImmediate(resolve)); // the sends' completions run
    expect(next.batches.map((b) => b.items)).toEqual([100, 100]);
    await expect(processor.consume(batch(100))).resolves.toBeUndefined();
  });

  it('sends what it holds on shutdown', async () => {
    const { next, processor } = setup({ send_batch_size: 8192 });
    await processor.consume(batch(7));
    await processor.shutdown();
    expect(next.batches.map((b) => b.items)).toEqual([7]);
  });

  it('counts size and timeout triggers and batch sizes', async () => {
    const { clock, processor, metrics } = setup({ send_batch_size: 10 });
    await processor.consume(batch(10));
    await processor.consume(batch(3));
    clock.advance(200);
    const text = await metrics.registry.metrics();
    expect(text).toContain(
      'otelcol_processor_batch_batch_size_trigger_send_total{processor="batch"} 1',
    );
    expect(text).toContain(
      'otelcol_processor_batch_timeout_trigger_send_total{processor="batch"} 1',
    );
    expect(text).toContain('otelcol_processor_batch_batch_send_size_count{processor="batch"} 2');
  });

  it('rejects send_batch_max_size below send_batch_size', () => {
    const r = batchSchema.safeParse({ send_batch_size: 100, send_batch_max_size: 10 });
    expect(r.success).toBe(false);
  });
});
