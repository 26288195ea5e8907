import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NO_HOST } from '../../../src/component/component.js';
import type { OtlpBatch } from '../../../src/component/consumer.js';
import type { AnomalyProcessor } from '../../../src/detectors/anomaly/anomaly-processor.js';
import { anomalyProcessorSchema } from '../../../src/detectors/anomaly/config.js';
import { anomalyProcessorFactory } from '../../../src/detectors/anomaly/factory.js';
import type { AnomalyRecord } from '../../../src/detectors/anomaly/internal/anomaly-record.js';
import { spanSeverity } from '../../../src/detectors/anomaly/replay/verdicts.js';
import { forEachAttribute, indexSpans, valueOfKey } from '../../../src/otlp/trace-index.js';
import { silentLogger } from '../../../src/telemetry/logger.js';
import { SelfMetrics } from '../../../src/telemetry/self-metrics.js';
import { FakeClock } from '../../../test/helpers/fake-clock.js';
import { RequestEncoder } from '../otlp/encode.js';
import { readId } from '../otlp/verdicts.js';
import type { Fleet } from '../sim/fleet.js';
import { DAY, HOUR, MINUTE, OPS, RateTraffic, START, rateFaults, type RateFault } from './sim.js';

const DETECTORS = ['latency', 'errors', 'traffic'] as const;
type Detector = (typeof DETECTORS)[number];

export interface FaultResult {
  readonly fault: RateFault;
  readonly op: string;
  /** error faults: the fault's error spans; storm: all its spans. */
  readonly positives: number;
  /** Of those, tagged by the fault's detector at SEV<=3 (and SEV<=2). */
  readonly sev3: number;
  readonly sev2: number;
  /** Seconds from the fault's start to its first tag at SEV<=3 (drop: to its record); NaN: none. */
  readonly firstSec: number;
  /** flow-stop: the drop's severity (0: none). */
  readonly dropSeverity: number;
}

export interface RatesSeedResult {
  readonly seed: number;
  readonly spans: number;
  readonly clean: number;
  /** Clean spans tagged per detector: [SEV<=5, SEV<=3, SEV<=2]. */
  readonly cleanTagged: Record<Detector, [number, number, number]>;
  /** Drops recorded outside the flow-stop faults (false alarms; of them SEV<=3, which open an incident), and in always-quiet hours. */
  readonly falseDrops: number;
  readonly falseDropsSev3: number;
  readonly quietDrops: number;
  readonly faults: FaultResult[];
  /** Every drop recorded in the evaluation week. */
  readonly drops: {
    service: string;
    start: string;
    severity: number;
    observed: number;
    expected: number;
  }[];
  readonly seconds: number;
}

const utf8 = new TextEncoder();
const DETECTOR_KEY = utf8.encode('anomaly.detector');
const decoder = new TextDecoder();

/** `anomaly.detector` of a span, or undefined. */
function detectorOf(b: Uint8Array, start: number, end: number): string | undefined {
  let out: string | undefined;
  forEachAttribute(b, start, end, (s, e) => {
    const v = valueOfKey(b, s, e, DETECTOR_KEY);
    // AnyValue { string_value (1) }: tag, length, bytes.
    if (v) out = decoder.decode(b.subarray(v[0] + 2, v[1]));
  });
  return out;
}

/**
 * Plays one seed: `weeks` weeks (the first `warmupWeeks` learned only) through the `anomaly`
 * processor built by its factory with default settings (a 5-minute flush, as the latency benchmark), on a real SQLite file
 * and a fake clock moved by the stream; reads each span's verdict and detector from what the
 * processor forwards, and the drops from its anomaly stream.
 */
export async function runRatesSeed(
  seed: number,
  weeks: number,
  warmupWeeks: number,
  progress: (line: string) => void,
): Promise<RatesSeedResult> {
  const started = performance.now();
  const evalStart = START + warmupWeeks * 7 * DAY;
  const end = START + weeks * 7 * DAY;
  const faults = rateFaults(seed, evalStart);
  const traffic = new RateTraffic(seed, faults);
  const encoder = new RequestEncoder({ ops: OPS } as unknown as Fleet);
  const dir = mkdtempSync(join(tmpdir(), 'hourglass-rates-bench-'));
  const clock = new FakeClock(START);
  let forwarded: OtlpBatch | undefined;
  const processor = anomalyProcessorFactory().create(
    {
      id: 'anomaly',
      logger: silentLogger(),
      clock,
      metrics: new SelfMetrics({ processMetrics: false }),
    },
    anomalyProcessorSchema.parse({ storage: join(dir, 'hg.db'), flush_interval: '5m' }),
    'traces',
    {
      consume: (b: OtlpBatch) => {
        forwarded = b;
        return Promise.resolve();
      },
    },
  ) as AnomalyProcessor;
  await processor.start(NO_HOST);
  const drops: AnomalyRecord[] = [];
  processor.detector.subscribe((r) => {
    if (r.reason === 'traffic_drop') drops.push(r);
  });
  const cleanTagged = Object.fromEntries(DETECTORS.map((d) => [d, [0, 0, 0]])) as Record<
    Detector,
    [number, number, number]
  >;
  const perFault = faults.map(() => ({ positives: 0, sev3: 0, sev2: 0, first: Number.NaN }));
  let spans = 0;
  let clean = 0;
  const interval = 10_000;
  try {
    for (let t = START; t < end; t += interval) {
      if ((t - START) % DAY === 0 && t > START) {
        progress(
          `seed ${seed}: day ${(t - START) / DAY} (${Math.round((performance.now() - started) / 1000)} s)`,
        );
      }
      const batch = traffic.interval(t, interval);
      clock.set(t + interval);
      await processor.detector.idle();
      if (batch.length === 0) {
        // No span: the flush timer still closes the minutes (drops).
        continue;
      }
      forwarded = undefined;
      await processor.consume({
        signal: 'traces',
        bytes: encoder.encode(batch),
        items: batch.length,
      });
      if (t < evalStart) continue;
      const verdicts = new Map<number, [number, string]>();
      const out = forwarded as OtlpBatch | undefined;
      if (out) {
        const b = out.bytes;
        for (const s of indexSpans(b).spans) {
          const sev = spanSeverity(b, s.start, s.end);
          if (sev > 0)
            verdicts.set(readId(b, s.spanIdAt), [sev, detectorOf(b, s.start, s.end) ?? '']);
        }
      }
      for (const s of batch) {
        spans++;
        const v = verdicts.get(s.spanId);
        if (s.fault < 0) {
          // Clean: not a faulted operation's span during (or within 15 minutes after) a fault.
          if (
            faults.some(
              (f) =>
                f.op === s.op && s.startMs >= f.from - MINUTE && s.startMs < f.to + 15 * MINUTE,
            )
          )
            continue;
          clean++;
          if (v) {
            const c = cleanTagged[v[1] as Detector];
            if (c) {
              c[0]++;
              if (v[0] <= 3) c[1]++;
              if (v[0] <= 2) c[2]++;
            }
          }
          continue;
        }
        const f = faults[s.fault]!;
        const want = f.kind === 'retry-storm' ? 'traffic' : 'errors';
        if (f.kind !== 'retry-storm' && !s.error) continue;
        const pf = perFault[s.fault]!;
        pf.positives++;
        if (v && v[1] === want && v[0] <= 3) {
          pf.sev3++;
          if (v[0] <= 2) pf.sev2++;
          const sec = (s.startMs + s.durationMs - f.from) / 1000;
          if (!(pf.first <= sec)) pf.first = sec;
        }
      }
    }
  } finally {
    await processor.shutdown();
    rmSync(dir, { recursive: true, force: true });
  }
  const inEval = drops.filter((d) => d.startMs >= evalStart);
  const stopFor = (d: AnomalyRecord) =>
    faults.find(
      (f) =>
        f.kind === 'flow-stop' &&
        OPS[f.op]!.service === d.service &&
        d.startMs >= f.from - MINUTE &&
        d.startMs < f.to,
    );
  const quiet = (d: AnomalyRecord) => {
    const op = OPS.find((o) => o.service === d.service)!;
    const hour = Math.floor(((d.startMs - START) % DAY) / HOUR);
    return op.shape === 'nightly' ? hour !== 2 : op.shape === 'quiet' && hour >= 1 && hour < 5;
  };
  return {
    seed,
    spans,
    clean,
    cleanTagged,
    falseDrops: inEval.filter((d) => !stopFor(d)).length,
    falseDropsSev3: inEval.filter((d) => !stopFor(d) && d.severity <= 3).length,
    quietDrops: inEval.filter(quiet).length,
    faults: faults.map((fault, k) => {
      const pf = perFault[k]!;
      if (fault.kind === 'flow-stop') {
        const found = inEval.filter((d) => stopFor(d) === fault);
        // The first record, and the worst (a drop recorded again when it gets worse).
        const drop = found[0] && {
          ...found[0],
          severity: Math.min(...found.map((d) => d.severity)),
        };
        return {
          fault,
          op: `${OPS[fault.op]!.service} ${OPS[fault.op]!.name}`,
          positives: 1,
          sev3: drop && drop.severity <= 3 ? 1 : 0,
          sev2: drop && drop.severity <= 2 ? 1 : 0,
          firstSec: drop ? (drop.recordedAt - fault.from) / 1000 : Number.NaN,
          dropSeverity: drop?.severity ?? 0,
        };
      }
      return {
        fault,
        op: `${OPS[fault.op]!.service} ${OPS[fault.op]!.name}`,
        positives: pf.positives,
        sev3: pf.sev3,
        sev2: pf.sev2,
        firstSec: pf.first,
        dropSeverity: 0,
      };
    }),
    drops: inEval.map((d) => ({
      service: d.service,
      start: new Date(d.startMs).toISOString(),
      severity: d.severity,
      observed: d.observedRate ?? Number.NaN,
      expected: d.expectedRate ?? Number.NaN,
    })),
    seconds: (performance.now() - started) / 1000,
  };
}
