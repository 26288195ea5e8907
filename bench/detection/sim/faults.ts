import { Random } from '../../../test/detectors/helpers/random.js';
import { leaves, type Fleet } from './fleet.js';
import { DAY, HOUR, MINUTE, dayOfWeek, load } from './seasonality.js';

/**
 * Injected faults, with their ground truth. All happen after the warm-up, never overlap one
 * another (so a span's truth has one cause), and keep clear of the hours the seasonality check
 * uses (Monday 09:00-10:00, Sunday 03:00-04:00).
 *
 * - `step`: the operation's spans take `factor` times as long (1.5x, 2x, 5x, 100x; 10 min to 3 h).
 * - `drift`: the operation slows linearly from 1x to `factor` over days, then is fixed at once.
 * - `downstream`: a leaf call (database, external API) slows by `factor`; its callers' spans grow
 *   by the time added, which is what the check is about.
 * - `outage`: an entry point receives no traffic at all.
 * - `error-burst`: a share (`factor`) of the operation's spans fail fast with status ERROR, and
 *   their callers fail with them: not a latency anomaly.
 * - `rush-at-night`: on Sunday 03:00, the seasonal operation runs with the latency it has on Monday
 *   09:00 (normal then, anomalous now).
 */
export type FaultKind =
  'step' | 'drift' | 'downstream' | 'outage' | 'error-burst' | 'rush-at-night';

export interface Fault {
  readonly id: number;
  readonly kind: FaultKind;
  /** Target operation (for an outage: the entry's root operation). */
  readonly op: number;
  readonly from: number;
  readonly to: number;
  /** Slowdown factor (drift: at the end); error-burst: share of failing spans; else 0. */
  readonly factor: number;
}

export interface Schedule {
  readonly faults: readonly Fault[];
  /** Starts of the Monday 09:00 and Sunday 03:00 hours probed by the seasonality check. */
  readonly mondayProbes: readonly number[];
  readonly sundayProbes: readonly number[];
}

/** Spans per ms of operation `op` at `t`, from the entries' rates and call probabilities. */
export function opRate(fleet: Fleet, op: number, t: number): number {
  let rate = 0;
  for (const e of fleet.entries) {
    rate += (e.steady ? e.rate : e.rate * load(t)) * visits(fleet, e.op, op);
  }
  return rate / 1000;
}

function visits(fleet: Fleet, from: number, target: number): number {
  if (from === target) return 1;
  let v = 0;
  for (const c of fleet.ops[from]!.calls) v += c.p * visits(fleet, c.op, target);
  return v;
}

const STEP_FACTORS = [1.5, 2, 5, 100];

/**
 * The faults of one run in [evalStart, end). With three or more evaluation weeks every step
 * factor gets three faults (10 min, 1 h, 3 h); with fewer, one of 1 h.
 */
export function makeSchedule(fleet: Fleet, seed: number, evalStart: number, end: number): Schedule {
  const r = new Random(seed * 104_729 + 3);
  const weeks = Math.floor((end - evalStart) / (7 * DAY));
  const busy: [number, number][] = [];
  const faults: Fault[] = [];
  const mondayProbes: number[] = [];
  const sundayProbes: number[] = [];
  // The probed hours, and the rush-at-night fault on the Sunday of the middle evaluation week.
  const rushWeek = Math.floor(weeks / 2);
  for (let w = 0; w < weeks; w++) {
    const monday = evalStart + w * 7 * DAY;
    mondayProbes.push(monday + 9 * HOUR);
    busy.push([monday + 9 * HOUR, monday + 10 * HOUR]);
    const sunday = monday + 6 * DAY + 3 * HOUR;
    busy.push([sunday, sunday + HOUR]);
    if (w === rushWeek) {
      faults.push(fault(faults, 'rush-at-night', fleet.seasonalOp, sunday, sunday + HOUR, 0));
    } else {
      sundayProbes.push(sunday);
    }
  }
  const free = (from: number, to: number) =>
    busy.every(([a, b]) => to + 2 * HOUR <= a || from >= b + 2 * HOUR);
  const place = (minutes: number, ok: (from: number) => boolean): number => {
    for (let attempt = 0; attempt < 10_000; attempt++) {
      const from =
        evalStart + Math.floor((r.next() * (end - evalStart - minutes * MINUTE)) / MINUTE) * MINUTE;
      const to = from + minutes * MINUTE;
      if (free(from, to) && ok(from)) {
        busy.push([from, to]);
        return from;
      }
    }
    throw new Error(`cannot place a ${minutes}-minute fault`);
  };
  const leafOps = leaves(fleet).filter((op) => !fleet.entries.some((e) => e.op === op && e.steady));
  const pick = <T>(list: readonly T[]) => list[Math.floor(r.next() * list.length)]!;
  // Drift: over three days (one in quick runs), on a leaf, then fixed.
  const driftDays = weeks >= 3 ? 3 : 1;
  const driftOp = pick(leafOps);
  const driftFrom = place(driftDays * 24 * 60, () => true);
  faults.push(fault(faults, 'drift', driftOp, driftFrom, driftFrom + driftDays * DAY, 2.5));
  // Steps on leaves busy enough for a detection within a minute (at least 2 spans a minute).
  const durations = weeks >= 3 ? [10, 60, 180] : [60];
  for (const factor of STEP_FACTORS) {
    for (const minutes of durations) {
      let op = -1;
      const from = place(minutes, (t) => {
        const candidates = leafOps.filter(
          (o) => o !== driftOp && opRate(fleet, o, t) * MINUTE >= 2,
        );
        if (candidates.length === 0) return false;
        op = pick(candidates);
        return true;
      });
      faults.push(fault(faults, 'step', op, from, from + minutes * MINUTE, factor));
    }
  }
  // Downstream: a database or external call whose callers show it.
  const withCallers = leafOps.filter((o) => fleet.callers[o]!.length > 0 && o !== driftOp);
  for (const factor of weeks >= 3 ? [3, 10] : [5]) {
    let op = -1;
    const from = place(60, (t) => {
      op = pick(withCallers);
      return opRate(fleet, op, t) * MINUTE >= 1;
    });
    faults.push(fault(faults, 'downstream', op, from, from + HOUR, factor));
  }
  // Outage of one entry point, two hours, at a busy time.
  const entry = pick(fleet.entries.filter((e) => !e.steady));
  const outageFrom = place(120, (t) => load(t) >= 0.8 && dayOfWeek(t) < 5);
  faults.push(fault(faults, 'outage', entry.op, outageFrom, outageFrom + 2 * HOUR, 0));
  // Error bursts: half of a service operation's spans fail fast for 30 minutes.
  const services = fleet.ops.filter(
    (o) => o.calls.length > 0 && fleet.callers[o.index]!.length > 0,
  );
  for (let i = 0; i < (weeks >= 3 ? 2 : 1); i++) {
    const op = pick(services).index;
    const from = place(30, (t) => opRate(fleet, op, t) * MINUTE >= 1);
    faults.push(fault(faults, 'error-burst', op, from, from + 30 * MINUTE, 0.5));
  }
  // Ids are positions in time order.
  const ordered = faults.sort((a, b) => a.from - b.from).map((f, id) => ({ ...f, id }));
  return { faults: ordered, mondayProbes, sundayProbes };
}

function fault(
  list: readonly Fault[],
  kind: FaultKind,
  op: number,
  from: number,
  to: number,
  factor: number,
): Fault {
  return { id: list.length, kind, op, from, to, factor };
}

/** The slowdown a fault applies to its operation's spans starting at `t` (1: none). */
export function slowdown(f: Fault, t: number): number {
  if (t < f.from || t >= f.to) return 1;
  if (f.kind === 'step' || f.kind === 'downstream') return f.factor;
  if (f.kind === 'drift') return 1 + ((f.factor - 1) * (t - f.from)) / (f.to - f.from);
  return 1;
}

/** A short human description: `step 5x on cart/redis HSET, 60 min`. */
export function describeFault(fleet: Fleet, f: Fault): string {
  const op = fleet.ops[f.op]!;
  const minutes = Math.round((f.to - f.from) / MINUTE);
  const span = minutes >= 1440 ? `${minutes / 1440} d` : `${minutes} min`;
  const what =
    f.kind === 'step' || f.kind === 'downstream'
      ? `${f.kind} ${f.factor}x`
      : f.kind === 'drift'
        ? `drift 1x->${f.factor}x`
        : f.kind === 'error-burst'
          ? `error burst ${Math.round(f.factor * 100)}%`
          : f.kind;
  return `${what} on ${op.service}/${op.name}, ${span}`;
}
