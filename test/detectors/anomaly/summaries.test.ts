import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { AnomalyDetector } from '../../../src/detectors/anomaly/detector.js';
import { useTempDirs } from '../../exporters/harness.js';
import { FakeClock } from '../../helpers/fake-clock.js';
import { standaloneDetector } from '../helpers/detector.js';
import { traceRequest } from '../helpers/traces.js';

const tempDir = useTempDirs('hourglass-summaries-');
const detectors: AnomalyDetector[] = [];
afterEach(async () => {
  await Promise.all(detectors.splice(0).map((d) => d.shutdown()));
});

/** A detector that has learned GET /cart at ~50 ms, and one anomaly (a 500 ms span) it tagged. */
async function withAnomaly(
  file: string,
  clock: FakeClock,
): Promise<{ d: AnomalyDetector; id: string }> {
  const d = await standaloneDetector(file, { min_samples: 10 }, clock);
  detectors.push(d);
  const t = clock.now();
  for (let i = 0; i < 40; i++) {
    d.accept(
      d.score(
        traceRequest([{ name: 'GET /cart', startMs: t + i * 1000, durationMs: 50 + (i % 5) }]),
      ),
    );
  }
  const slow = d.score(traceRequest([{ name: 'GET /cart', startMs: t + 60_000, durationMs: 500 }]));
  d.accept(slow);
  expect(slow.anomalies).toHaveLength(1);
  return { d, id: slow.anomalies[0]!.id };
}

describe('summaries on the anomaly history', () => {
  it('shows an attached summary at once and writes it with the next flush', async () => {
    const file = join(tempDir(), 'hg.db');
    const clock = new FakeClock(Date.UTC(2026, 0, 5, 9));
    const { d, id } = await withAnomaly(file, clock);
    expect(d.history({ limit: 10 })[0]!.summary).toBeNull();
    d.attachSummary([id, 'ffffffffffffffffffffffffffffffff-ffffffffffffffff'], 'payments was slow');
    expect(d.history({ limit: 10 }).map((r) => [r.id, r.summary])).toEqual([
      [id, 'payments was slow'],
    ]);
    d.flush();
    await d.shutdown();
    detectors.pop();
    const reopened = await standaloneDetector(file, {}, clock);
    detectors.push(reopened);
    expect(reopened.history({ limit: 10 }).map((r) => [r.id, r.summary])).toEqual([
      [id, 'payments was slow'],
    ]);
  });

  it('a summary attached after its anomaly was written lands on the stored row; the latest wins', async () => {
    const file = join(tempDir(), 'hg.db');
    const clock = new FakeClock(Date.UTC(2026, 0, 5, 9));
    const { d, id } = await withAnomaly(file, clock);
    d.flush();
    d.attachSummary([id], 'first');
    d.attachSummary([id], 'second');
    d.flush();
    await d.shutdown();
    detectors.pop();
    const reopened = await standaloneDetector(file, {}, clock);
    detectors.push(reopened);
    expect(reopened.history({ limit: 10 })[0]!.summary).toBe('second');
  });
});
