import { describe, expect, it } from 'vitest';
import { RefusedError } from '../../src/component/errors.js';
import { memoryLimiterSchema } from '../../src/pipeline/memory-limiter/config.js';
import { MemoryLimiter } from '../../src/pipeline/memory-limiter/memory-limiter.js';
import { SelfMetrics } from '../../src/telemetry/self-metrics.js';
import { CaptureExporter } from '../helpers/capture-exporter.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { testLogger } from '../helpers/sidecar.js';
import { traceRequest } from '../helpers/spans.js';

const MiB = 1024 * 1024;

function setup(raw: Record<string, unknown>, totalMemory = 8192 * MiB) {
  let used = 100 * MiB;
  let garbage = 0;
  let collections = 0;
  const clock = new FakeClock();
  const next = new CaptureExporter();
  const metrics = new SelfMetrics({ processMetrics: false });
  const limiter = new MemoryLimiter(
    { id: 'memory_limiter', logger: testLogger(), clock, metrics },
    memoryLimiterSchema.parse(raw),
    'traces',
    next,
    () => used + garbage,
    { bytes: totalMemory, source: 'machine memory' },
    () => {
      collections++;
      garbage = 0;
    },
  );
  return {
    clock,
    next,
    limiter,
    metrics,
    setUsed: (mib: number) => (used = mib * MiB),
    setGarbage: (mib: number) => (garbage = mib * MiB),
    collections: () => collections,
  };
}

const batch = { signal: 'traces' as const, bytes: traceRequest(5), items: 5 };

describe('memory_limiter', () => {
  it('passes data below the soft limit and refuses it above, with a retry hint', async () => {
    const { clock, next, limiter, setUsed } = setup({
      check_interval: '1s',
      limit_mib: 400,
      spike_limit_mib: 100,
    });
    await limiter.start();
    await limiter.consume(batch);
    expect(next.items()).toBe(5);
    setUsed(301); // soft limit = 400 - 100
    clock.advance(1000);
    const refused = await limiter.consume(batch).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(RefusedError);
    // At least check_interval (1s here), jittered up to twice that.
    expect((refused as RefusedError).retryAfterMs).toBeGreaterThanOrEqual(1000);
    expect((refused as RefusedError).retryAfterMs).toBeLessThan(2000);
    setUsed(250);
    // Checked again on arrival after a refusal, without waiting for the next interval.
    await limiter.consume(batch);
    expect(next.items()).toBe(10);
    await limiter.shutdown();
  });

  it('defaults the spike limit to 20% of the limit, and supports percentages', async () => {
    const a = setup({ limit_mib: 1000 });
    await a.limiter.start();
    a.setUsed(801);
    a.clock.advance(1000);
    await expect(a.limiter.consume(batch)).rejects.toBeInstanceOf(RefusedError);

    const b = setup({ limit_percentage: 50, spike_limit_percentage: 10 }, 1000 * MiB);
    await b.limiter.start();
    b.setUsed(399);
    b.clock.advance(1000);
    await expect(b.limiter.consume(batch)).resolves.toBeUndefined();
    b.setUsed(401);
    b.clock.advance(1000);
    await expect(b.limiter.consume(batch)).rejects.toBeInstanceOf(RefusedError);
  });

  it('collects garbage before refusing, at most once per check_interval', async () => {
    const { clock, next, limiter, setUsed, setGarbage, collections } = setup({
      check_interval: '1s',
      limit_mib: 400,
      spike_limit_mib: 100,
    });
    await limiter.start();
    setUsed(250);
    setGarbage(100); // 350 MiB read, 250 of it live: no reason to refuse
    clock.advance(1000);
    expect(collections()).toBe(1);
    await limiter.consume(batch);
    expect(next.items()).toBe(5);
    setUsed(320); // live data above the soft limit: refuse, without collecting again this interval
    clock.advance(400);
    limiter.check();
    await expect(limiter.consume(batch)).rejects.toBeInstanceOf(RefusedError);
    expect(collections()).toBe(1);
    await limiter.shutdown();
  });

  it('counts refused items', async () => {
    const { clock, limiter, metrics, setUsed } = setup({ limit_mib: 100 });
    await limiter.start();
    setUsed(90);
    clock.advance(1000);
    await limiter.consume(batch).catch(() => undefined);
    expect(await metrics.registry.metrics()).toContain(
      'otelcol_processor_refused_spans_total{processor="memory_limiter"} 5',
    );
  });

  it('requires a limit', () => {
    const r = memoryLimiterSchema.safeParse({ check_interval: '1s' });
    expect(r.success ? [] : r.error.issues.map((i) => i.message)).toEqual([
      'set limit_mib or limit_percentage',
    ]);
  });
});
