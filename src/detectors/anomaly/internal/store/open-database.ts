import { existsSync, renameSync } from 'node:fs';
import { makeDirsSync } from '../../../../component/make-dirs.js';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import type { Logger } from 'pino';
import { HourglassError } from '../../../../component/errors.js';
import { LEVEL_ADDED_COLUMNS, LEVEL_SCHEMA } from './level-store.js';
import { RATE_SCHEMA } from './rate-store.js';

/** The baseline database cannot be opened or written (a bad path, permissions, a full disk). */
export class StorageError extends HourglassError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('HOURGLASS_ERR_STORAGE', message, options);
  }
}

// 3: the error and traffic detectors' rate_stats table and anomaly columns (rates/).
// 4: the keys' levels (level-store.ts).
// 5: each key's 10x count with its level (`levels.tenfold_*`; schema 4 ignores them).
// 6: each anomaly's place in the order it was published (`anomalies.seq`; older code ignores it).
const SCHEMA_VERSION = 6;
/**
 * The oldest schema version whose code may use a file at SCHEMA_VERSION (`min_reader` in `meta`):
 * a release whose migration only adds what older code ignores keeps it, so that rolling back to
 * that older release works on the same file. 4 raised it: version 3 deletes keys without their
 * levels, and SQLite gives a deleted key's id to the next key, which would take that level.
 */
const MIN_READER = 4;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS keys (
  id INTEGER PRIMARY KEY,
  service TEXT NOT NULL,
  operation TEXT NOT NULL,
  kind INTEGER NOT NULL,
  UNIQUE (service, operation, kind)
);
CREATE TABLE IF NOT EXISTS daily_stats (
  key_id INTEGER NOT NULL,
  day INTEGER NOT NULL,
  hour INTEGER NOT NULL,
  count INTEGER NOT NULL,
  mean REAL NOT NULL,
  m2 REAL NOT NULL,
  sketch BLOB NOT NULL,
  PRIMARY KEY (key_id, day, hour)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS daily_stats_by_day ON daily_stats (day);
CREATE TABLE IF NOT EXISTS thresholds (
  key_id INTEGER NOT NULL,
  slot INTEGER NOT NULL,
  samples INTEGER NOT NULL,
  mean REAL NOT NULL,
  stddev REAL NOT NULL,
  p50 REAL, p95 REAL, p99 REAL,
  z5 REAL, z4 REAL, z3 REAL, z2 REAL, z1 REAL,
  source TEXT NOT NULL,
  computed_at INTEGER NOT NULL,
  PRIMARY KEY (key_id, slot)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS anomalies (
  id TEXT PRIMARY KEY,
  trace_id TEXT NOT NULL,
  span_id TEXT NOT NULL,
  service TEXT NOT NULL,
  operation TEXT NOT NULL,
  kind INTEGER NOT NULL,
  start_ms REAL NOT NULL,
  duration_ms REAL NOT NULL,
  severity INTEGER NOT NULL,
  detector TEXT NOT NULL,
  score REAL NOT NULL,
  ratio REAL NOT NULL,
  baseline_mean_ms REAL NOT NULL,
  baseline_stddev_ms REAL NOT NULL,
  baseline_p99_ms REAL NOT NULL,
  baseline_samples INTEGER NOT NULL,
  baseline_scope TEXT NOT NULL,
  baseline_window TEXT NOT NULL,
  recorded_at INTEGER NOT NULL,
  summary TEXT,
  reason TEXT NOT NULL DEFAULT 'slow_span',
  operation_ratio REAL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS anomalies_by_start ON anomalies (start_ms);
CREATE INDEX IF NOT EXISTS anomalies_by_service ON anomalies (service, start_ms);
CREATE INDEX IF NOT EXISTS anomalies_by_recorded ON anomalies (recorded_at);
`;

const CORRUPT_CODES = new Set(['SQLITE_NOTADB', 'SQLITE_CORRUPT', 'SQLITE_CORRUPT_INDEX']);

function isCorruption(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && (CORRUPT_CODES.has(code) || code.startsWith('SQLITE_CORRUPT'));
}

/**
 * Opens (creating it and its directory if needed) the baseline database in WAL mode, checks it and
 * brings its schema up to date. A file that is not a database or fails the integrity check is
 * moved aside as `<file>.corrupt-<time>` (with its -wal and -shm) and a new one is created: the
 * error is logged, learning starts over, and the traffic path never stops for it. Other failures
 * (permissions, a directory in the way) throw a StorageError saying what to fix.
 */
export function openDatabase(path: string, logger: Logger, now: number): Database.Database {
  const file = resolve(path);
  try {
    makeDirsSync(dirname(file));
  } catch (err) {
    throw new StorageError(
      `cannot create the directory of the baseline database ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
      { cause: err },
    );
  }
  try {
    return openChecked(file);
  } catch (err) {
    if (err instanceof StorageError) throw err;
    if (!isCorruption(err)) {
      throw new StorageError(
        `cannot open the baseline database ${file}: ${err instanceof Error ? err.message : String(err)}; check the "storage" path and its permissions`,
        { cause: err },
      );
    }
    const aside = `${file}.corrupt-${new Date(now).toISOString().replace(/[:.]/g, '-')}`;
    for (const suffix of ['', '-wal', '-shm']) {
      if (existsSync(file + suffix)) renameSync(file + suffix, aside + suffix);
    }
    logger.error(
      { err, storage: file, movedTo: aside },
      'the baseline database is corrupted; moved it aside and created a new one (baselines are learned again; traffic is not affected)',
    );
    return openChecked(file);
  }
}

function openChecked(file: string): Database.Database {
  const db = new Database(file, { timeout: 5000 });
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    const check = db.pragma('quick_check(1)', { simple: true });
    if (check !== 'ok') {
      throw Object.assign(new Error(`integrity check failed: ${String(check)}`), {
        code: 'SQLITE_CORRUPT',
      });
    }
    migrate(db);
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

function migrate(db: Database.Database): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > SCHEMA_VERSION) {
    // A newer release's file: used as it is when that release says this one may (a rollback).
    const minReader = metaNumber(db, 'min_reader') ?? version;
    if (minReader > SCHEMA_VERSION) {
      throw new StorageError(
        `the baseline database has schema version ${version}, which needs hourglass of schema version ${minReader} or newer (this one: ${SCHEMA_VERSION}); upgrade hourglass or use another "storage" file`,
      );
    }
    return;
  }
  db.exec(SCHEMA);
  db.exec(RATE_SCHEMA);
  db.exec(LEVEL_SCHEMA);
  if (version < SCHEMA_VERSION) {
    addMissingColumns(db, 'anomalies', ADDED_COLUMNS);
    addMissingColumns(db, 'levels', LEVEL_ADDED_COLUMNS);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  }
  // After the column, which a file of an older release gets from addMissingColumns.
  db.exec('CREATE INDEX IF NOT EXISTS anomalies_by_seq ON anomalies (seq)');
  db.prepare(
    "INSERT INTO meta (name, value) VALUES ('min_reader', ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
  ).run(String(MIN_READER));
}

/** A number of the `meta` table, if the file has the table and the row. */
function metaNumber(db: Database.Database, name: string): number | undefined {
  try {
    const row = db.prepare('SELECT value FROM meta WHERE name = ?').get(name) as
      { value: string } | undefined;
    const n = row === undefined ? Number.NaN : Number(row.value);
    return Number.isInteger(n) ? n : undefined;
  } catch {
    return undefined; // no meta table: a file that admits no older reader
  }
}

/** Columns added after version 1, for files an older hourglass created. */
const ADDED_COLUMNS: readonly [string, string][] = [
  ['reason', "TEXT NOT NULL DEFAULT 'slow_span'"],
  ['operation_ratio', 'REAL'],
  // Version 3: the error and traffic detectors (null for latency anomalies).
  ['error_rate', 'REAL'],
  ['baseline_error_rate', 'REAL'],
  ['error_type', 'TEXT'],
  ['observed_rate', 'REAL'],
  ['expected_rate', 'REAL'],
  ['window_end_ms', 'REAL'],
  // Version 6: the place in the order published (event streams resume after it).
  ['seq', 'INTEGER'],
];

function addMissingColumns(
  db: Database.Database,
  table: string,
  columns: readonly [string, string][],
): void {
  const have = new Set(
    db
      .prepare<[], { name: string }>(`SELECT name FROM pragma_table_info('${table}')`)
      .all()
      .map((c) => c.name),
  );
  for (const [name, type] of columns) {
    if (!have.has(name)) db.exec(`ALTER TABLE ${table} ADD COLUMN ${name} ${type}`);
  }
}
