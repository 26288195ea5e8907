import type { BenchDetector } from './detectors/detector.js';
import { Hourglass } from './detectors/hourglass.js';
import { EwmaSigma, GlobalSigma, SeasonalSigma } from './detectors/references.js';
import { RequestEncoder } from './otlp/encode.js';
import { incidentBreakdown, type IncidentBreakdown } from './score/incident-breakdown.js';
import { IncidentLog, incidentFigures, type IncidentFigures } from './score/incidents.js';
import { detectorReport, type DetectorReport } from './score/metrics.js';
import { Tally } from './score/tally.js';
import { describeFault, makeSchedule } from './sim/faults.js';
import { makeFleet } from './sim/fleet.js';
import { DAY, HOUR } from './sim/seasonality.js';
import { Traffic } from './sim/traffic.js';

export interface RunOptions {
  readonly seed: number;
  readonly weeks: number;
  readonly warmupWeeks: number;
  /** Scales the traffic of every entry point (cron jobs excepted). */
  readonly volume: number;
  /** Simulated time covered by one request (spans are sent in batches, as SDKs do). */
  readonly intervalMs: number;
  /** Settings of the anomaly processor beyond its defaults. */
  readonly hourglass?: Record<string, unknown>;
  /** Other `incidents` settings, by name, run beside the processor's own on the same tags. */
  readonly incidentVariants?: Readonly<Record<string, Record<string, unknown>>>;
  readonly progress?: (line: string) => void;
}

export interface SeedResult {
  readonly seed: number;
  readonly weeks: number;
  readonly warmupWeeks: number;
  readonly spans: number;
  readonly evalHours: number;
  readonly operations: number;
  readonly seasonalOp: string;
  readonly faults: string[];
  readonly seconds: number;
  readonly detectors: DetectorReport[];
  /** hourglass's incidents against the faults (score/incidents.ts). */
  readonly incidents: IncidentFigures;
  /** What opened them and why a fault has more than one (score/incident-breakdown.ts). */
  readonly incidentBreakdown: IncidentBreakdown;
  /** The same for each of `incidentVariants`. */
  readonly incidentVariants: readonly {
    readonly name: string;
    readonly incidents: IncidentFigures;
    readonly incidentBreakdown: IncidentBreakdown;
  }[];
}

/** Monday 2026-01-05 00:00 UTC. */
export const START = Date.UTC(2026, 0, 5);

/**
 * Plays one seed's simulated weeks through every detector: the same requests, in the same order,
 * at the same simulated times; tallies each verdict against the ground truth.
 */
export async function runSeed(o: RunOptions): Promise<SeedResult> {
  const started = performance.now();
  const fleet = makeFleet(o.seed, o.volume);
  const evalStart = START + o.warmupWeeks * 7 * DAY;
  const end = START + o.weeks * 7 * DAY;
  const schedule = makeSchedule(fleet, o.seed, evalStart, end);
  const traffic = new Traffic(fleet, schedule, o.seed);
  const encoder = new RequestEncoder(fleet);
  const n = fleet.ops.length;
  // The latency detector alone: the error and traffic detectors have their own benchmark
  // (`--rates`); their tags would otherwise mix into these latency figures.
  const hourglass = await Hourglass.start(START, {
    errors: { enabled: false },
    traffic: { enabled: false },
    ...o.hourglass,
  });
  const incidents = new IncidentLog(() => hourglass.now());
  hourglass.onIncident(incidents.hear);
  const variants = Object.entries(o.incidentVariants ?? {}).map(([name, settings]) => {
    const log = new IncidentLog(() => hourglass.now());
    hourglass.shadowIncidents(settings, log.hear);
    return { name, log };
  });
  const logs = [incidents, ...variants.map((v) => v.log)];
  const detectors: BenchDetector[] = [
    hourglass,
    new GlobalSigma(n),
    new EwmaSigma(n),
    new SeasonalSigma(n),
  ];
  const tallies = detectors.map(() => new Tally(fleet, schedule, START, evalStart, o.weeks));
  let spans = 0;
  try {
    for (let t = START; t < end; t += o.intervalMs) {
      const batch = traffic.interval(t, t + o.intervalMs);
      if ((t - START) % DAY === 0 && t > START) progress(o, t, spans, started);
      if (batch.length === 0) continue;
      spans += batch.length;
      const bytes = encoder.encode(batch);
      for (let k = 0; k < detectors.length; k++) {
        const severities = await detectors[k]!.score(batch, bytes, t + o.intervalMs);
        const tally = tallies[k]!;
        for (let i = 0; i < batch.length; i++) tally.add(batch[i]!, severities[i]!);
        if (k > 0) continue;
        for (const log of logs) {
          for (let i = 0; i < batch.length; i++) log.span(batch[i]!, severities[i]!);
        }
      }
    }
  } finally {
    for (const d of detectors) await d.close();
  }
  const evalHours = (end - evalStart) / HOUR;
  const describe = (id: number) => {
    const f = schedule.faults.find((x) => x.id === id)!;
    const op = fleet.ops[f.op]!;
    return { kind: `${f.kind} ${f.factor}x`, target: `${op.service} ${op.name}`, from: f.from };
  };
  const score = (log: IncidentLog) => {
    const figures = incidentFigures(log, fleet, schedule, evalStart, end);
    return { incidents: figures, incidentBreakdown: incidentBreakdown(log, figures, describe) };
  };
  return {
    seed: o.seed,
    weeks: o.weeks,
    warmupWeeks: o.warmupWeeks,
    spans,
    evalHours,
    operations: n,
    seasonalOp: `${fleet.ops[fleet.seasonalOp]!.service}/${fleet.ops[fleet.seasonalOp]!.name}`,
    faults: schedule.faults.map((f) => describeFault(fleet, f)),
    seconds: (performance.now() - started) / 1000,
    detectors: detectors.map((d, k) =>
      detectorReport(d.name, d.description, tallies[k]!.data, fleet, evalHours, o.warmupWeeks),
    ),
    ...score(incidents),
    incidentVariants: variants.map((v) => ({ name: v.name, ...score(v.log) })),
  };
}

function progress(o: RunOptions, t: number, spans: number, started: number): void {
  const day = Math.round((t - START) / DAY);
  if (day % 7 !== 0) return;
  o.progress?.(
    `seed ${o.seed}: week ${day / 7} of ${o.weeks} played, ${(spans / 1e6).toFixed(1)}M spans, ${((performance.now() - started) / 1000).toFixed(0)} s`,
  );
}
