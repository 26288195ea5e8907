import { Random } from '../../../test/detectors/helpers/random.js';
import type { SimSpan } from '../sim/traffic.js';

/**
 * The simulated traffic of the error and traffic detectors' benchmark: a few operations of an
 * online shop with a daily and weekly cycle, day-to-day and minute-to-minute variation of the
 * volume, background errors at each operation's own share (varying from day to day), quiet nights
 * and a nightly job; and the faults issue 14 lists, with their ground truth.
 */

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

export interface RateOp {
  readonly service: string;
  readonly name: string;
  readonly kind: number;
  /** Spans a minute at the daily peak. */
  readonly peak: number;
  /** Share of failing spans, on average. */
  readonly errorShare: number;
  readonly medianMs: number;
  /** `quiet`: (almost) nothing from 01:00 to 05:00; `nightly`: only 02:00-03:00. */
  readonly shape: 'shop' | 'quiet' | 'nightly';
}

export const OPS: readonly RateOp[] = [
  {
    service: 'gateway',
    name: 'GET /products',
    kind: 2,
    peak: 240,
    errorShare: 0.005,
    medianMs: 30,
    shape: 'shop',
  },
  {
    service: 'checkout',
    name: 'POST /orders',
    kind: 2,
    peak: 90,
    errorShare: 0.01,
    medianMs: 120,
    shape: 'shop',
  },
  {
    service: 'payment',
    name: 'POST /v1/charges',
    kind: 3,
    peak: 45,
    errorShare: 0.01,
    medianMs: 250,
    shape: 'shop',
  },
  {
    service: 'catalog',
    name: 'SELECT products',
    kind: 3,
    peak: 150,
    errorShare: 0.001,
    medianMs: 4,
    shape: 'shop',
  },
  {
    service: 'cart',
    name: 'GET /cart',
    kind: 2,
    peak: 120,
    errorShare: 0.002,
    medianMs: 15,
    shape: 'shop',
  },
  {
    service: 'email',
    name: 'smtp send',
    kind: 3,
    peak: 15,
    errorShare: 0.02,
    medianMs: 400,
    shape: 'shop',
  },
  {
    service: 'reports',
    name: 'nightly export',
    kind: 1,
    peak: 30,
    errorShare: 0,
    medianMs: 900,
    shape: 'nightly',
  },
  {
    service: 'search',
    name: 'GET /search',
    kind: 2,
    peak: 60,
    errorShare: 0.005,
    medianMs: 60,
    shape: 'quiet',
  },
];

export type RateFaultKind = 'error-burst' | 'dependency-down' | 'retry-storm' | 'flow-stop';

export interface RateFault {
  readonly id: number;
  readonly kind: RateFaultKind;
  readonly op: number;
  readonly from: number;
  readonly to: number;
  /** error-burst: the share failing; retry-storm: the rate's factor. */
  readonly factor: number;
}

/** Monday 2026-01-05 00:00 UTC. */
export const START = Date.UTC(2026, 0, 5);

/** The daily and weekly cycle of the shop, 0..1. */
function load(t: number): number {
  const hour = ((t - START) % DAY) / HOUR;
  const dow = Math.floor((t - START) / DAY) % 7;
  const h =
    hour < 6
      ? 0.15
      : hour < 9
        ? 0.15 + ((hour - 6) / 3) * 0.85
        : hour < 18
          ? 1
          : hour < 23
            ? 0.6
            : 0.3;
  return dow >= 5 ? h * 0.6 : h;
}

function opLoad(op: RateOp, t: number): number {
  const hour = Math.floor(((t - START) % DAY) / HOUR);
  if (op.shape === 'nightly') return hour === 2 ? 1 : 0;
  if (op.shape === 'quiet' && hour >= 1 && hour < 5) return 0.002;
  return load(t);
}

/**
 * The faults of one seed in the evaluation week, at busy hours (weekdays 10:00-17:00), never
 * overlapping: error bursts to 10% and 50% (and one to 10% on the busiest call), a dependency
 * failing every call fast, a retry storm (5x), a flow that stops; two of each.
 */
export function rateFaults(seed: number, evalStart: number): RateFault[] {
  const r = new Random(seed * 7919 + 14);
  const plan: [RateFaultKind, number, number, number][] = [
    ['error-burst', 1, 0.1, 10],
    ['error-burst', 1, 0.5, 5],
    ['error-burst', 0, 0.1, 10],
    ['error-burst', 4, 0.5, 5],
    ['dependency-down', 2, 1, 10],
    ['dependency-down', 3, 1, 5],
    ['retry-storm', 3, 5, 10],
    ['retry-storm', 0, 5, 10],
    ['flow-stop', 4, 0, 10],
    ['flow-stop', 1, 0, 10],
  ];
  const faults: RateFault[] = [];
  plan.forEach(([kind, op, factor, minutes], id) => {
    // Weekday id % 5, a different busy hour each.
    const day = id % 5;
    const hour = 10 + ((id * 3 + Math.floor(r.next() * 3)) % 7);
    const from =
      evalStart +
      day * DAY +
      hour * HOUR +
      Math.floor(r.next() * 50) * MINUTE +
      Math.floor(r.next() * 60) * 1000;
    faults.push({ id, kind, op, from, to: from + minutes * MINUTE, factor });
  });
  return faults;
}

/** A simulated span and the fault that changed it (-1: none). */
export interface RateSpan extends SimSpan {
  readonly fault: number;
}

/** Generates the traffic, 10 seconds at a time, in time order. */
export class RateTraffic {
  private readonly r: Random;
  private day = -1;
  private dayVolume: number[] = [];
  private dayErrors: number[] = [];
  private minute = -1;
  private minuteVolume: number[] = [];
  private nextId = 1;

  constructor(
    seed: number,
    private readonly faults: readonly RateFault[],
  ) {
    this.r = new Random(seed);
  }

  interval(t: number, ms: number): RateSpan[] {
    const day = Math.floor((t - START) / DAY);
    if (day !== this.day) {
      this.day = day;
      this.dayVolume = OPS.map(() => Math.exp(0.08 * this.r.normal()));
      this.dayErrors = OPS.map(() => Math.exp(0.2 * this.r.normal()));
    }
    const minute = Math.floor(t / MINUTE);
    if (minute !== this.minute) {
      this.minute = minute;
      this.minuteVolume = OPS.map(() => Math.exp(0.1 * this.r.normal()));
    }
    const out: RateSpan[] = [];
    OPS.forEach((op, k) => {
      let rate = (op.peak / MINUTE) * opLoad(op, t) * this.dayVolume[k]! * this.minuteVolume[k]!;
      let errorShare = op.errorShare * this.dayErrors[k]!;
      let fault = -1;
      let fastFail = false;
      for (const f of this.faults) {
        if (f.op !== k || t + ms <= f.from || t >= f.to) continue;
        fault = f.id;
        if (f.kind === 'flow-stop') rate = 0;
        else if (f.kind === 'retry-storm') rate *= f.factor;
        else if (f.kind === 'error-burst') errorShare = f.factor;
        else fastFail = true;
      }
      const n = this.poisson(rate * ms);
      for (let i = 0; i < n; i++) {
        const start = t + Math.floor(this.r.next() * ms);
        const inFault =
          fault >= 0 && start >= this.faults[fault]!.from && start < this.faults[fault]!.to;
        const failed =
          inFault && fastFail
            ? true
            : this.r.next() < (inFault ? errorShare : op.errorShare * this.dayErrors[k]!);
        const duration =
          failed && (fastFail || inFault)
            ? 2
            : Math.max(0.2, op.medianMs * Math.exp(0.3 * this.r.normal()));
        const id = this.nextId++;
        out.push({
          op: k,
          traceId: id,
          spanId: id,
          parentId: 0,
          startMs: start,
          durationMs: Math.round(duration * 1000) / 1000,
          error: failed,
          factor: 1,
          fault: inFault ? fault : -1,
          probe: 0,
        });
      }
    });
    out.sort((a, b) => a.startMs + a.durationMs - (b.startMs + b.durationMs));
    return out;
  }

  private poisson(mean: number): number {
    if (mean > 50) return Math.max(0, Math.round(mean + Math.sqrt(mean) * this.r.normal()));
    const l = Math.exp(-mean);
    let k = 0;
    let p = 1;
    for (;;) {
      p *= this.r.next();
      if (p <= l) return k;
      k++;
    }
  }
}
