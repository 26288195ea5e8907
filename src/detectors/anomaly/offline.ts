import type Database from 'better-sqlite3';
import { silentLogger } from '../../telemetry/logger.js';
import { bySeverity, type AnomalyProcessorConfig } from './config.js';
import { splitPercentiles } from './internal/level.js';
import { recalculate, type RecalcReport } from './internal/recalculate.js';
import { BaselineStore } from './internal/store/baseline-store.js';
import { openDatabase } from './internal/store/open-database.js';
import { TimeBuckets } from './internal/time-buckets.js';

/**
 * The anomaly processor's store outside a running sidecar, for the operational commands
 * (`hourglass recalculate`, `hourglass backfill`, in src/cli/): open its SQLite file, recalculate
 * its thresholds as the nightly job does.
 */
export type { BaselineStore } from './internal/store/baseline-store.js';
export type { RecalcReport } from './internal/recalculate.js';

/** Opens a processor's SQLite file (WAL: the running sidecar may have it open too). */
export function openStore(
  config: AnomalyProcessorConfig,
  now: number,
): { db: Database.Database; store: BaselineStore } {
  const db = openDatabase(config.storage, silentLogger(), now);
  return { db, store: new BaselineStore(db) };
}

/** A full recalculation of a store's thresholds, as the processor's nightly job does it. */
export function recalculateStore(
  store: BaselineStore,
  config: AnomalyProcessorConfig,
  now: number,
): Promise<RecalcReport> {
  return recalculate(store, {
    sinceDay: new TimeBuckets(config.timezone).day(now) - config.window_days + 1,
    percentiles: splitPercentiles(bySeverity(config.severity_percentiles).map((p) => p / 100))
      .point,
    minSamples: config.min_samples,
    now,
    timeZone: config.timezone,
  });
}
