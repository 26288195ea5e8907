import type { BaselineModel } from '../internal/baseline-model.js';

/** An operation's recent level as the processor's detector keeps it (internal/level.ts). */
export interface LevelReading {
  /** How much slower than their slots' medians its recent spans are (1: as usual). */
  readonly ratio: number;
  /** End time (ms) of its last span. */
  readonly lastSpanAt: number;
}

/** The level of a service's operation, or undefined when the processor has no key for it. */
export type LevelLookup = (service: string, operation: string) => LevelReading | undefined;

/**
 * Reads the level of `service` / `operation` from the processor's keys, for the engine's hold
 * (`hold_while_slower`): read at tick time for incidents past their quiet period only, never on
 * the traffic path. Of the operation's keys (one per span kind), the one with the latest span.
 */
export function levelLookup(model: BaselineModel): LevelLookup {
  return (service, operation) => {
    let best: LevelReading | undefined;
    for (const key of model.operations(service)?.get(operation) ?? []) {
      if (!key) continue;
      const lastSpanAt = key.level.snapshot().last;
      if (!best || lastSpanAt > best.lastSpanAt) best = { ratio: key.level.ratio(), lastSpanAt };
    }
    return best;
  };
}
