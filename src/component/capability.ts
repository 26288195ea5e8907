import type { Kind } from './kind.js';

/**
 * Typed capabilities: what one component offers the others through the `Host`, found by id
 * (as the Collector's components find extensions), never by class or by shape.
 *
 * A capability id names what is offered and carries its type. The component that offers it
 * declares the id in its contract module (`contract.ts`) and lists it in `capabilities()`; a
 * component that needs it imports the id from that contract and asks `host.lookup(id)`:
 *
 * ```ts
 * // src/detectors/anomaly/contract.ts
 * export const ANOMALY_HISTORY = capability<AnomalyHistory>('anomaly.history');
 * // the anomaly processor
 * capabilities() { return [provide(ANOMALY_HISTORY, this.detector)]; }
 * // the admin extension, in start() or later
 * for (const { id, value } of host.lookup(ANOMALY_HISTORY)) ...
 * ```
 */
export interface Capability<T> {
  readonly name: string;
  /** Never set: carries `T`, so that `lookup` returns values of the right type. */
  readonly type?: (value: T) => T;
}

/** Declares a capability id. Names are dotted, owner first: `anomaly.history`. */
export function capability<T>(name: string): Capability<T> {
  return Object.freeze({ name });
}

/** One capability a component offers (made by `provide`, which checks the value's type). */
export interface Provided {
  readonly capability: Capability<unknown>;
  readonly value: unknown;
}

export function provide<T>(capability: Capability<T>, value: T): Provided {
  return { capability: capability as Capability<unknown>, value };
}

/** A capability as found through the host: its value and who offers it. */
export interface Published<T> {
  readonly value: T;
  /** The kind and id of the component offering it. */
  readonly kind: Kind;
  readonly id: string;
  /**
   * Every pipeline of the instances offering this value (a processor shared by several pipelines
   * offers one value from each of its instances: found once, with all their pipelines).
   */
  readonly pipelines: readonly string[];
}
