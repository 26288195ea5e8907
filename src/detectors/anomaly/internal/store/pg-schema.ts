import type pg from 'pg';
import { StorageError } from './open-database.js';

/**
 * The PostgreSQL schema of a fleet's shared baselines, as numbered migrations. Every migration is
 * additive (a table, a nullable column, an index), so an instance of the previous version keeps
 * working on a database a newer one has migrated: during a rolling update both run side by side.
 * `min_reader` in `hg_meta` is the oldest schema version whose code may still use the database; a
 * migration that breaks older code must raise it (none does yet).
 */
export const PG_SCHEMA_VERSION = 8;

/** The oldest version of this code that may use a database at PG_SCHEMA_VERSION. */
const MIN_READER = 1;

const MIGRATIONS: readonly (readonly [version: number, sql: string])[] = [
  [
    1,
    `
CREATE TABLE IF NOT EXISTS hg_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS hg_keys (
  id SERIAL PRIMARY KEY,
  service TEXT NOT NULL,
  operation TEXT NOT NULL,
  kind INTEGER NOT NULL,
  UNIQUE (service, operation, kind)
);
-- One instance's learning of one key, local day and hour: the fleet's row is the merge of these.
-- xid: the transaction that last wrote the row, so instances find what others changed since.
CREATE TABLE IF NOT EXISTS hg_daily (
  key_id INTEGER NOT NULL,
  day INTEGER NOT NULL,
  hour INTEGER NOT NULL,
  instance TEXT NOT NULL,
  count BIGINT NOT NULL,
  mean DOUBLE PRECISION NOT NULL,
  m2 DOUBLE PRECISION NOT NULL,
  sketch BYTEA NOT NULL,
  xid XID8 NOT NULL DEFAULT pg_current_xact_id(),
  PRIMARY KEY (key_id, day, hour, instance)
);
CREATE INDEX IF NOT EXISTS hg_daily_by_day ON hg_daily (day);
CREATE INDEX IF NOT EXISTS hg_daily_by_xid ON hg_daily (xid);
CREATE TABLE IF NOT EXISTS hg_thresholds (
  key_id INTEGER NOT NULL,
  slot INTEGER NOT NULL,
  samples BIGINT NOT NULL,
  mean DOUBLE PRECISION NOT NULL,
  stddev DOUBLE PRECISION NOT NULL,
  p50 DOUBLE PRECISION, p95 DOUBLE PRECISION, p99 DOUBLE PRECISION,
  z5 DOUBLE PRECISION, z4 DOUBLE PRECISION, z3 DOUBLE PRECISION, z2 DOUBLE PRECISION,
  z1 DOUBLE PRECISION,
  source TEXT NOT NULL,
  computed_at BIGINT NOT NULL,
  PRIMARY KEY (key_id, slot)
);
CREATE TABLE IF NOT EXISTS hg_anomalies (
  id TEXT PRIMARY KEY,
  trace_id TEXT NOT NULL,
  span_id TEXT NOT NULL,
  service TEXT NOT NULL,
  operation TEXT NOT NULL,
  kind INTEGER NOT NULL,
  start_ms DOUBLE PRECISION NOT NULL,
  duration_ms DOUBLE PRECISION NOT NULL,
  severity INTEGER NOT NULL,
  detector TEXT NOT NULL,
  score DOUBLE PRECISION NOT NULL,
  ratio DOUBLE PRECISION NOT NULL,
  baseline_mean_ms DOUBLE PRECISION NOT NULL,
  baseline_stddev_ms DOUBLE PRECISION NOT NULL,
  baseline_p99_ms DOUBLE PRECISION NOT NULL,
  baseline_samples BIGINT NOT NULL,
  baseline_scope TEXT NOT NULL,
  baseline_window TEXT NOT NULL,
  recorded_at BIGINT NOT NULL,
  summary TEXT,
  reason TEXT NOT NULL DEFAULT 'slow_span',
  operation_ratio DOUBLE PRECISION
);
CREATE INDEX IF NOT EXISTS hg_anomalies_by_start ON hg_anomalies (start_ms);
CREATE INDEX IF NOT EXISTS hg_anomalies_by_service ON hg_anomalies (service, start_ms);
CREATE INDEX IF NOT EXISTS hg_anomalies_by_recorded ON hg_anomalies (recorded_at);
-- Scheduled recalculations claimed by an instance: one per scheduled time for the whole fleet.
CREATE TABLE IF NOT EXISTS hg_recalculations (
  scheduled_at BIGINT PRIMARY KEY,
  instance TEXT NOT NULL,
  started_at BIGINT NOT NULL
);
`,
  ],
  [
    2,
    `
-- Instances seen on this database, with the schema version each runs (rolling updates).
CREATE TABLE IF NOT EXISTS hg_instances (
  instance TEXT PRIMARY KEY,
  schema_version INTEGER NOT NULL,
  started_at BIGINT NOT NULL,
  seen_at BIGINT NOT NULL
);
-- Which instance recorded an anomaly (NULL: one of version 1).
ALTER TABLE hg_anomalies ADD COLUMN IF NOT EXISTS instance TEXT;
`,
  ],
  [
    3,
    `
-- The error and traffic detectors' fields of an anomaly (NULL for latency anomalies).
ALTER TABLE hg_anomalies ADD COLUMN IF NOT EXISTS error_rate DOUBLE PRECISION;
ALTER TABLE hg_anomalies ADD COLUMN IF NOT EXISTS baseline_error_rate DOUBLE PRECISION;
ALTER TABLE hg_anomalies ADD COLUMN IF NOT EXISTS error_type TEXT;
ALTER TABLE hg_anomalies ADD COLUMN IF NOT EXISTS observed_rate DOUBLE PRECISION;
ALTER TABLE hg_anomalies ADD COLUMN IF NOT EXISTS expected_rate DOUBLE PRECISION;
ALTER TABLE hg_anomalies ADD COLUMN IF NOT EXISTS window_end_ms DOUBLE PRECISION;
`,
  ],
  [
    4,
    `
-- What each flush learned (its own rows before they were merged into hg_daily), so that the other
-- instances read only what changed since they last looked: the change log of the daily rows.
-- Rows every live reader has read are pruned; changes_pruned_below in hg_meta says how far.
CREATE TABLE IF NOT EXISTS hg_changes (
  xid XID8 NOT NULL DEFAULT pg_current_xact_id(),
  instance TEXT NOT NULL,
  key_id INTEGER NOT NULL,
  day INTEGER NOT NULL,
  hour INTEGER NOT NULL,
  count BIGINT NOT NULL,
  mean DOUBLE PRECISION NOT NULL,
  m2 DOUBLE PRECISION NOT NULL
);
CREATE INDEX IF NOT EXISTS hg_changes_by_xid ON hg_changes (xid);
-- How far each instance has read the change log (the xmin of its last snapshot; database time).
ALTER TABLE hg_instances ADD COLUMN IF NOT EXISTS read_xid XID8;
ALTER TABLE hg_instances ADD COLUMN IF NOT EXISTS read_at TIMESTAMPTZ;
`,
  ],
  [
    5,
    `
-- One instance's error and traffic baselines (rates/) of one key, local day and hour: the minutes
-- it observed, their spans and squared per-minute counts, the spans and errors of the error share.
-- Sums: the fleet's row is the sum of the instances'.
CREATE TABLE IF NOT EXISTS hg_rates (
  key_id INTEGER NOT NULL,
  day INTEGER NOT NULL,
  hour INTEGER NOT NULL,
  instance TEXT NOT NULL,
  minutes DOUBLE PRECISION NOT NULL,
  spans DOUBLE PRECISION NOT NULL,
  sum_sq DOUBLE PRECISION NOT NULL,
  err_spans DOUBLE PRECISION NOT NULL,
  errors DOUBLE PRECISION NOT NULL,
  PRIMARY KEY (key_id, day, hour, instance)
);
CREATE INDEX IF NOT EXISTS hg_rates_by_day ON hg_rates (day);
-- Their change log, read and pruned with hg_changes.
CREATE TABLE IF NOT EXISTS hg_rate_changes (
  xid XID8 NOT NULL DEFAULT pg_current_xact_id(),
  instance TEXT NOT NULL,
  key_id INTEGER NOT NULL,
  day INTEGER NOT NULL,
  hour INTEGER NOT NULL,
  minutes DOUBLE PRECISION NOT NULL,
  spans DOUBLE PRECISION NOT NULL,
  sum_sq DOUBLE PRECISION NOT NULL,
  err_spans DOUBLE PRECISION NOT NULL,
  errors DOUBLE PRECISION NOT NULL
);
CREATE INDEX IF NOT EXISTS hg_rate_changes_by_xid ON hg_rate_changes (xid);
`,
  ],
  [
    6,
    `
-- One instance's part of a fleet incident (its IncidentState as JSON, with the columns reads
-- filter on): the fleet's incident is the merge of the rows of one id. xid: the transaction that
-- last wrote the row, so instances read only what the others changed since they last looked.
CREATE TABLE IF NOT EXISTS hg_incidents (
  id TEXT NOT NULL,
  instance TEXT NOT NULL,
  status TEXT NOT NULL,
  severity INTEGER NOT NULL,
  opened_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  origin_service TEXT,
  origin_operation TEXT,
  state TEXT NOT NULL,
  xid XID8 NOT NULL DEFAULT pg_current_xact_id(),
  PRIMARY KEY (id, instance)
);
CREATE INDEX IF NOT EXISTS hg_incidents_by_xid ON hg_incidents (xid);
CREATE INDEX IF NOT EXISTS hg_incidents_by_updated ON hg_incidents (updated_at);
CREATE INDEX IF NOT EXISTS hg_incidents_by_origin ON hg_incidents (origin_service, origin_operation)
  WHERE status = 'open';
`,
  ],
  [
    7,
    `
-- Each instance's level of each key (level.ts: histogram, counts, thresholds, live state; one blob,
-- level-codec.ts), replaced by its flushes and read at its start. Each instance learns its own.
CREATE TABLE IF NOT EXISTS hg_levels (
  key_id INTEGER NOT NULL,
  instance TEXT NOT NULL,
  saved_at BIGINT NOT NULL,
  state BYTEA NOT NULL,
  PRIMARY KEY (key_id, instance)
);
`,
  ],
  [
    8,
    `
-- Each anomaly's place in the order its instance published it (anomaly-feed.ts), so that an event
-- stream of that instance resumes after the last one its client read (NULL: an older instance's).
ALTER TABLE hg_anomalies ADD COLUMN IF NOT EXISTS seq BIGINT;
CREATE INDEX IF NOT EXISTS hg_anomalies_by_seq ON hg_anomalies (instance, seq);
`,
  ],
];

/** Advisory lock ids (any two constants of this application). */
export const MIGRATION_LOCK = 0x686f7572_01;
export const RECALC_LOCK = 0x686f7572_02;
export const RETENTION_LOCK = 0x686f7572_03;
/** Held by a flush that writes incidents new to the fleet: one instance at a time claims a fault. */
export const INCIDENT_LOCK = 0x686f7572_04;

/**
 * Brings the database to `target` (this code's version; a test may ask for an older one to stand
 * for the previous release) under an advisory lock, so instances starting together migrate once.
 * Returns the version the database is at, which may be newer than `target` when a newer instance
 * migrated it and still admits this version (`min_reader`); otherwise throws a StorageError.
 */
export async function migrate(client: pg.ClientBase, target = PG_SCHEMA_VERSION): Promise<number> {
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    const exists = await client.query<{ t: string | null }>("SELECT to_regclass('hg_meta') AS t");
    let version = 0;
    let minReader = 0;
    if (exists.rows[0]?.t) {
      const meta = await client.query<{ name: string; value: string }>(
        "SELECT name, value FROM hg_meta WHERE name IN ('schema_version', 'min_reader')",
      );
      for (const r of meta.rows) {
        if (r.name === 'schema_version') version = Number(r.value);
        if (r.name === 'min_reader') minReader = Number(r.value);
      }
    }
    if (version > target) {
      if (minReader > target) {
        throw new StorageError(
          `the shared baseline database has schema version ${version}, which needs hourglass of schema version ${minReader} or newer (this one: ${target}); finish the rolling update`,
        );
      }
      await client.query('COMMIT');
      return version;
    }
    for (const [v, sql] of MIGRATIONS) {
      if (v <= version || v > target) continue;
      await client.query(sql);
    }
    if (version < target) {
      const set = `INSERT INTO hg_meta (name, value) VALUES ($1, $2)
        ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value`;
      await client.query(set, ['schema_version', String(target)]);
      await client.query(set, ['min_reader', String(Math.min(MIN_READER, target))]);
    }
    await client.query('COMMIT');
    return Math.max(version, target);
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}
