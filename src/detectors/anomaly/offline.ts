import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import type Database from 'better-sqlite3';
import type { Logger } from 'pino';
import { silentLogger } from '../../telemetry/logger.js';
import { bySeverity, type AnomalyProcessorConfig } from './config.js';
import { splitPercentiles } from './internal/level.js';
import { recalculate, type RecalcReport } from './internal/recalculate.js';
import { BaselineStore } from './internal/store/baseline-store.js';
import { openDatabase, StorageError } from './internal/store/open-database.js';
import { isPostgresUrl, redactUrl } from './internal/store/pg-connect.js';
import type { ThresholdStore } from './internal/store/threshold-store.js';
import { TimeBuckets } from './internal/time-buckets.js';

/**
 * The anomaly processor's store outside a running sidecar, for the operational commands
 * (`hourglass recalculate`, `hourglass backfill`, in src/cli/): open its SQLite file, recalculate
 * its thresholds as the nightly job does.
 */
export type { BaselineStore } from './internal/store/baseline-store.js';
export { FleetSeed } from './internal/store/pg-seed.js';
export { isPostgresUrl } from './internal/store/pg-connect.js';
export type { RecalcReport } from './internal/recalculate.js';

/** Throws, saying what to do instead, when processor `id` keeps its baselines in PostgreSQL. */
export function assertSqliteStorage(id: string, config: AnomalyProcessorConfig): void {
  if (!isPostgresUrl(config.storage)) return;
  throw new StorageError(
    `processors.${id}.storage is a shared PostgreSQL database (${redactUrl(config.storage)}): this command works on a SQLite file; recalculate a fleet's thresholds with POST /api/v1/recalculate on any of its instances`,
  );
}

/**
 * For a command that works on what a sidecar learned (`recalculate`): a file that is not there is
 * a wrong path or working directory, not a database to start, so it is refused, naming the path.
 */
export function assertSqliteFileExists(id: string, config: AnomalyProcessorConfig): void {
  if (existsSync(config.storage)) return;
  const where = isAbsolute(config.storage)
    ? ''
    : ` (a relative path: read from the working directory, ${process.cwd()})`;
  throw new StorageError(
    `processors.${id}.storage: there is no database at ${resolve(config.storage)}${where}; run the command with the sidecar's config and data directory (HOURGLASS_DATA_DIR in the shipped config); "hourglass backfill" seeds a new one`,
  );
}

/**
 * Opens a processor's SQLite file (WAL: the running sidecar may have it open too). `logger` hears
 * what the command's user must know, such as a corrupted file moved aside and started afresh.
 */
export function openStore(
  config: AnomalyProcessorConfig,
  now: number,
  logger: Logger = silentLogger(),
): { db: Database.Database; store: BaselineStore } {
  const db = openDatabase(config.storage, logger, now);
  return { db, store: new BaselineStore(db) };
}

/** A full recalculation of a store's thresholds, as the processor's nightly job does it. */
export function recalculateStore(
  store: ThresholdStore,
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
