import { Random } from '../../../test/detectors/helpers/random.js';

/**
 * The simulated fleet: an online shop's services and the operations they serve or call, with the
 * latency shape of each operation drawn (per seed) from ranges typical of such services.
 *
 * A span's duration is its own work ("self time") plus the spans it calls, one after the other.
 * Self time is log-normal around the operation's median (its log-spread `sigma`), with a heavy
 * tail: a small share of spans (`tailShare`: cache misses, retries, GC pauses) is slower by a
 * Pareto-distributed factor of at least 3. The median grows with load like a queue's response
 * time, `1 / (1 - utilization * load)` (normalised to 1 at load 1), so busy hours are slower.
 */

export const SERVER = 2;
export const CLIENT = 3;
export const INTERNAL = 1;

export interface Operation {
  readonly index: number;
  readonly service: string;
  readonly name: string;
  readonly kind: number;
  /** Median self time at load 1, ms. */
  readonly medianMs: number;
  /** Log-space standard deviation of the body. */
  readonly sigma: number;
  /** Share of spans in the slow tail. */
  readonly tailShare: number;
  /** Pareto shape of the tail factor (smaller: heavier). */
  readonly tailAlpha: number;
  /** Utilisation at load 1 (0: latency does not depend on load). */
  readonly utilization: number;
  /** Standard deviation (log space) of the slow level noise (minutes to hours). */
  readonly levelSd: number;
  /** Operations called, in order, each with its probability. */
  readonly calls: readonly { readonly op: number; readonly p: number }[];
}

export interface Entry {
  /** The root operation of the traces. */
  readonly op: number;
  /** Traces per second at load 1 (before the volume scale). */
  readonly rate: number;
  /** Constant rate (health checks, cron jobs) instead of following the load. */
  readonly steady: boolean;
}

export interface Fleet {
  readonly ops: readonly Operation[];
  readonly entries: readonly Entry[];
  /** The operation the seasonality check is made on (strongly load-dependent). */
  readonly seasonalOp: number;
  /** Callers of each operation (direct and indirect), to attribute downstream faults. */
  readonly callers: readonly (readonly number[])[];
}

type Range = readonly [number, number];

interface OpSpec {
  readonly service: string;
  readonly name: string;
  readonly kind?: number;
  readonly median: Range;
  readonly sigma: Range;
  readonly tail?: Range;
  readonly util?: Range;
  readonly calls?: readonly (string | readonly [string, number])[];
}

// service/name -> spec. Ranges are drawn per seed; calls name other operations.
// prettier-ignore
const CATALOGUE: readonly OpSpec[] = [
  { service: 'frontend', name: 'GET /', median: [8, 15], sigma: [0.2, 0.35], calls: ['auth/ValidateToken', 'recommendation/ListRecommendations', 'ads/GetAds', 'currency/Convert'] },
  { service: 'frontend', name: 'GET /product/{id}', median: [6, 12], sigma: [0.2, 0.35], calls: ['auth/ValidateToken', 'catalog/GetProduct', ['recommendation/ListRecommendations', 0.7], 'currency/Convert'] },
  { service: 'frontend', name: 'GET /search', median: [5, 10], sigma: [0.2, 0.3], calls: ['auth/ValidateToken', 'search/Query'] },
  { service: 'frontend', name: 'POST /cart', median: [5, 9], sigma: [0.2, 0.3], calls: ['auth/ValidateToken', 'cart/AddItem'] },
  { service: 'frontend', name: 'POST /checkout', median: [10, 20], sigma: [0.2, 0.3], calls: ['auth/ValidateToken', 'checkout/PlaceOrder'] },
  { service: 'frontend', name: 'GET /account', median: [5, 10], sigma: [0.2, 0.35], calls: ['auth/ValidateToken', 'accounts/GetProfile'] },
  { service: 'frontend', name: 'GET /healthz', median: [0.3, 0.8], sigma: [0.15, 0.3], util: [0, 0.05] },
  { service: 'auth', name: 'ValidateToken', median: [0.8, 2], sigma: [0.2, 0.4], calls: ['auth/redis GET'] },
  { service: 'auth', name: 'redis GET', kind: CLIENT, median: [0.4, 1.2], sigma: [0.25, 0.5] },
  { service: 'catalog', name: 'GetProduct', median: [2, 5], sigma: [0.2, 0.35], calls: ['catalog/SELECT products'] },
  { service: 'catalog', name: 'SELECT products', kind: CLIENT, median: [2, 8], sigma: [0.3, 0.55] },
  { service: 'catalog', name: 'ListProducts', median: [3, 6], sigma: [0.2, 0.35], calls: ['catalog/SELECT products by category'] },
  { service: 'catalog', name: 'SELECT products by category', kind: CLIENT, median: [8, 25], sigma: [0.3, 0.5] },
  { service: 'search', name: 'Query', median: [3, 6], sigma: [0.2, 0.3], calls: ['search/POST /products/_search'] },
  { service: 'search', name: 'POST /products/_search', kind: CLIENT, median: [25, 60], sigma: [0.25, 0.4], util: [0.45, 0.5] },
  { service: 'cart', name: 'AddItem', median: [1.5, 3], sigma: [0.2, 0.35], calls: ['cart/redis HSET'] },
  { service: 'cart', name: 'GetCart', median: [1, 2.5], sigma: [0.2, 0.35], calls: ['cart/redis HGETALL'] },
  { service: 'cart', name: 'redis HSET', kind: CLIENT, median: [0.5, 1.5], sigma: [0.25, 0.5] },
  { service: 'cart', name: 'redis HGETALL', kind: CLIENT, median: [0.5, 1.5], sigma: [0.25, 0.5] },
  { service: 'checkout', name: 'PlaceOrder', median: [8, 15], sigma: [0.2, 0.35], calls: ['cart/GetCart', 'currency/Convert', 'payment/Charge', 'shipping/GetQuote', 'checkout/INSERT orders', 'email/SendOrderConfirmation'] },
  { service: 'checkout', name: 'INSERT orders', kind: CLIENT, median: [3, 8], sigma: [0.3, 0.5] },
  { service: 'payment', name: 'Charge', median: [3, 8], sigma: [0.2, 0.3], calls: ['payment/POST /v1/charges'] },
  { service: 'payment', name: 'POST /v1/charges', kind: CLIENT, median: [150, 300], sigma: [0.3, 0.5], tail: [0.005, 0.02] },
  { service: 'shipping', name: 'GetQuote', median: [4, 10], sigma: [0.2, 0.35], calls: ['shipping/POST /rates'] },
  { service: 'shipping', name: 'POST /rates', kind: CLIENT, median: [60, 120], sigma: [0.3, 0.5], tail: [0.005, 0.02] },
  { service: 'currency', name: 'Convert', median: [0.5, 1.5], sigma: [0.15, 0.3] },
  { service: 'recommendation', name: 'ListRecommendations', median: [10, 25], sigma: [0.25, 0.4], calls: ['catalog/ListProducts'] },
  { service: 'ads', name: 'GetAds', median: [4, 10], sigma: [0.25, 0.45], calls: ['ads/SELECT campaigns'] },
  { service: 'ads', name: 'SELECT campaigns', kind: CLIENT, median: [2, 6], sigma: [0.3, 0.5] },
  { service: 'email', name: 'SendOrderConfirmation', median: [5, 10], sigma: [0.2, 0.35], calls: ['email/smtp send'] },
  { service: 'email', name: 'smtp send', kind: CLIENT, median: [80, 200], sigma: [0.35, 0.6], tail: [0.01, 0.03] },
  { service: 'accounts', name: 'GetProfile', median: [2, 5], sigma: [0.2, 0.35], calls: ['accounts/SELECT users'] },
  { service: 'accounts', name: 'SELECT users', kind: CLIENT, median: [1.5, 4], sigma: [0.3, 0.5] },
  { service: 'inventory', name: 'ReconcileStock', kind: INTERNAL, median: [800, 2000], sigma: [0.15, 0.3], util: [0, 0.1], calls: ['inventory/SELECT stock'] },
  { service: 'inventory', name: 'SELECT stock', kind: CLIENT, median: [300, 900], sigma: [0.2, 0.4], util: [0, 0.1] },
  { service: 'reporting', name: 'BuildSalesReport', kind: INTERNAL, median: [3000, 8000], sigma: [0.15, 0.3], util: [0, 0.1] },
];

// Traces per second at load 1 (before the volume scale), by root operation.
const ENTRIES: readonly {
  readonly op: string;
  readonly rate: number;
  readonly steady?: boolean;
}[] = [
  { op: 'frontend/GET /', rate: 3 },
  { op: 'frontend/GET /product/{id}', rate: 4 },
  { op: 'frontend/GET /search', rate: 1.5 },
  { op: 'frontend/POST /cart', rate: 0.8 },
  { op: 'frontend/POST /checkout', rate: 0.25 },
  { op: 'frontend/GET /account', rate: 0.3 },
  { op: 'frontend/GET /healthz', rate: 0.1, steady: true },
  // Cron jobs: a few spans per hour whatever the load.
  { op: 'inventory/ReconcileStock', rate: 1 / 300, steady: true },
  { op: 'reporting/BuildSalesReport', rate: 1 / 900, steady: true },
];

const draw = (r: Random, [lo, hi]: Range) => lo + (hi - lo) * r.next();
const logDraw = (r: Random, [lo, hi]: Range) => lo * Math.pow(hi / lo, r.next());

/** The fleet of one seed. `volume` scales every traffic rate (not the cron jobs). */
export function makeFleet(seed: number, volume: number): Fleet {
  const r = new Random(seed * 7919 + 17);
  const ids = new Map(CATALOGUE.map((s, i) => [`${s.service}/${s.name}`, i]));
  const ops: Operation[] = CATALOGUE.map((s, index) => ({
    index,
    service: s.service,
    name: s.name,
    kind: s.kind ?? SERVER,
    medianMs: logDraw(r, s.median),
    sigma: draw(r, s.sigma),
    tailShare: logDraw(r, s.tail ?? [0.001, 0.01]),
    tailAlpha: draw(r, [1.5, 2.5]),
    utilization: draw(r, s.util ?? [0, 0.35]),
    levelSd: draw(r, [0.02, 0.05]),
    calls: (s.calls ?? []).map((c) => {
      const [name, p] = typeof c === 'string' ? [c, 1] : c;
      const op = ids.get(name);
      if (op === undefined) throw new Error(`unknown operation ${name}`);
      return { op, p };
    }),
  }));
  const entries = ENTRIES.map((e) => {
    const op = ids.get(e.op);
    if (op === undefined) throw new Error(`unknown operation ${e.op}`);
    const steady = e.steady ?? false;
    return { op, rate: steady ? e.rate : e.rate * volume, steady };
  });
  return {
    ops,
    entries,
    seasonalOp: ids.get('search/POST /products/_search')!,
    callers: ops.map((o) => callersOf(ops, o.index)),
  };
}

function callersOf(ops: readonly Operation[], target: number): number[] {
  const out = new Set<number>();
  const visit = (t: number) => {
    for (const o of ops) {
      if (o.calls.some((c) => c.op === t) && !out.has(o.index)) {
        out.add(o.index);
        visit(o.index);
      }
    }
  };
  visit(target);
  return [...out];
}

/** Leaf operations (they call nothing): where step faults are injected. */
export function leaves(fleet: Fleet): number[] {
  return fleet.ops.filter((o) => o.calls.length === 0).map((o) => o.index);
}
