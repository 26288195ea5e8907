import { Random } from '../../../test/detectors/helpers/random.js';
import { slowdown, type Fault, type Schedule } from './faults.js';
import type { Fleet, Operation } from './fleet.js';
import { DAY, HOUR, MINUTE, latencyFactor, load } from './seasonality.js';

/** One simulated span, with its ground truth. */
export interface SimSpan {
  readonly op: number;
  readonly traceId: number;
  readonly spanId: number;
  /** 0 for a root span. */
  readonly parentId: number;
  /** Whole ms since the epoch. */
  readonly startMs: number;
  readonly durationMs: number;
  readonly error: boolean;
  /** Duration with the faults over duration without them (1: unaffected). */
  readonly factor: number;
  /** The fault that changed this span (its duration or its status), or -1. */
  readonly fault: number;
  /** 0, or the seasonality probe it is: 1 on Monday 09:00, 2 on Sunday 03:00. */
  readonly probe: number;
}

export const MONDAY_PROBE = 1;
export const SUNDAY_PROBE = 2;
/** Probe spans per probed hour. */
const PROBES_PER_HOUR = 20;
/** Minutes of correlation of the slow level noise. */
const LEVEL_MINUTES = 20;
const DAY_LEVEL_SD = 0.03;
const DAY_VOLUME_SD = 0.08;

interface Result {
  d0: number;
  d1: number;
  error: boolean;
  fault: number;
}

/**
 * Generates the traffic of a fleet, interval by interval, in time order: traces start at Poisson
 * times whose rate follows the load (and a per-day volume factor), each trace is a tree of spans
 * (a span's duration is its self time plus its calls), and every span's duration is computed twice,
 * with and without the faults active at its start, to give its ground truth.
 */
export class Traffic {
  private readonly r: Random;
  private readonly level: Float64Array;
  private readonly dayLevel: Float64Array;
  private readonly dayVolume: Float64Array;
  private minute = Number.NaN;
  private day = Number.NaN;
  private nextTrace = 1;
  private nextSpan = 1;
  private spans: SimSpan[] = [];
  private active: Fault[] = [];

  constructor(
    private readonly fleet: Fleet,
    private readonly schedule: Schedule,
    seed: number,
  ) {
    this.r = new Random(seed * 65_537 + 11);
    this.level = new Float64Array(fleet.ops.length);
    this.dayLevel = new Float64Array(fleet.ops.length);
    this.dayVolume = new Float64Array(fleet.entries.length).fill(1);
  }

  /** The spans of the traces that start in [from, to); span ids are consecutive. */
  interval(from: number, to: number): SimSpan[] {
    this.spans = [];
    this.advanceNoise(from);
    this.active = this.schedule.faults.filter((f) => f.from < to && f.to > from);
    const mid = (from + to) / 2;
    const seconds = (to - from) / 1000;
    this.fleet.entries.forEach((e, i) => {
      if (this.active.some((f) => f.kind === 'outage' && f.op === e.op)) return;
      const mean = (e.steady ? e.rate : e.rate * load(mid) * this.dayVolume[i]!) * seconds;
      const n = this.poisson(mean);
      for (let k = 0; k < n; k++) {
        const start = from + Math.floor(this.r.next() * (to - from));
        this.span(e.op, start, this.nextTrace++, 0);
      }
    });
    this.probes(from, to);
    return this.spans;
  }

  private span(op: number, start: number, traceId: number, parentId: number): Result {
    const o = this.fleet.ops[op]!;
    const spanId = this.nextSpan++;
    let self0 = this.selfTime(o, start, load(start));
    let f = 1;
    let fault = -1;
    let error = false;
    let self1 = self0;
    for (const a of this.active) {
      if (a.op !== op || start < a.from || start >= a.to) continue;
      if (a.kind === 'rush-at-night') {
        // The same minute of the hour, with Monday 09:00's load.
        const monday = a.from - 6 * DAY + 6 * HOUR;
        self1 =
          (self0 * latencyFactor(o, load(monday + start - a.from))) / latencyFactor(o, load(start));
        fault = a.id;
      } else if (a.kind === 'error-burst') {
        if (this.r.next() < a.factor) {
          error = true;
          fault = a.id;
          self0 *= 0.05 + 0.25 * this.r.next();
          self1 = self0;
        }
      } else if (a.kind !== 'outage') {
        f *= slowdown(a, start);
        fault = a.id;
      }
    }
    self1 *= f;
    let sum0 = 0;
    let sum1 = 0;
    if (!error) {
      let cursor = start + self1 / 2;
      for (const c of o.calls) {
        if (c.p < 1 && this.r.next() >= c.p) continue;
        const child = this.span(c.op, Math.floor(cursor), traceId, spanId);
        cursor += child.d1;
        sum0 += child.d0;
        sum1 += child.d1;
        if (child.fault >= 0 && fault < 0) fault = child.fault;
        if (child.error) {
          error = true;
          break;
        }
      }
    }
    const d0 = self0 + sum0;
    const d1 = self1 + sum1;
    this.spans.push({
      op,
      traceId,
      spanId,
      parentId,
      startMs: start,
      durationMs: Math.round(d1 * 1e6) / 1e6,
      error,
      factor: d1 / d0,
      fault,
      probe: 0,
    });
    return { d0, d1, error, fault };
  }

  /** Self time: log-normal body around the seasonal median, slow level noise, a Pareto tail. */
  private selfTime(o: Operation, t: number, atLoad: number): number {
    const median =
      o.medianMs *
      latencyFactor(o, atLoad) *
      Math.exp(this.level[o.index]! + this.dayLevel[o.index]!);
    let x = median * Math.exp(o.sigma * this.r.normal());
    if (this.r.next() < o.tailShare) {
      x *= Math.min(500, 1 + 2 * Math.pow(1 - this.r.next(), -1 / o.tailAlpha));
    }
    return x;
  }

  /** Seasonality probes: spans at Monday 09:00's median latency of the seasonal operation. */
  private probes(from: number, to: number): void {
    const { schedule, fleet } = this;
    const o = fleet.ops[fleet.seasonalOp]!;
    const every = HOUR / PROBES_PER_HOUR;
    const emit = (hour: number, monday: number, probe: number) => {
      for (
        let t = Math.ceil((from - hour) / every) * every + hour;
        t < to && t < hour + HOUR;
        t += every
      ) {
        if (t < hour) continue;
        const durationMs = o.medianMs * latencyFactor(o, load(monday + (t - hour)));
        this.spans.push({
          op: o.index,
          traceId: this.nextTrace++,
          spanId: this.nextSpan++,
          parentId: 0,
          startMs: t,
          durationMs: Math.round(durationMs * 1e6) / 1e6,
          error: false,
          factor: 1,
          fault: -1,
          probe,
        });
      }
    };
    for (const h of schedule.mondayProbes) if (h < to && h + HOUR > from) emit(h, h, MONDAY_PROBE);
    for (const h of schedule.sundayProbes) {
      if (h < to && h + HOUR > from) emit(h, h - 6 * DAY + 6 * HOUR, SUNDAY_PROBE);
    }
  }

  /** Moves the per-minute level noise (AR(1)) and the per-day factors up to `t`. */
  private advanceNoise(t: number): void {
    const minute = Math.floor(t / MINUTE);
    const day = Math.floor(t / DAY);
    if (day !== this.day) {
      this.day = day;
      for (let i = 0; i < this.dayLevel.length; i++)
        this.dayLevel[i] = DAY_LEVEL_SD * this.r.normal();
      for (let i = 0; i < this.dayVolume.length; i++) {
        this.dayVolume[i] = Math.max(0.5, 1 + DAY_VOLUME_SD * this.r.normal());
      }
    }
    if (minute === this.minute) return;
    const steps = Number.isNaN(this.minute) ? 1 : Math.min(minute - this.minute, 1000);
    this.minute = minute;
    const phi = Math.exp(-1 / LEVEL_MINUTES);
    for (let s = 0; s < steps; s++) {
      this.fleet.ops.forEach((o, i) => {
        this.level[i] =
          phi * this.level[i]! + Math.sqrt(1 - phi * phi) * o.levelSd * this.r.normal();
      });
    }
  }

  private poisson(mean: number): number {
    if (mean > 30) return Math.max(0, Math.round(mean + Math.sqrt(mean) * this.r.normal()));
    const limit = Math.exp(-mean);
    let k = 0;
    let p = this.r.next();
    while (p > limit) {
      k++;
      p *= this.r.next();
    }
    return k;
  }
}
