import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import {
  openDatabase,
  StorageError,
} from '../../../src/detectors/anomaly/internal/store/open-database.js';
import { silentLogger } from '../../../src/telemetry/logger.js';

const NOW = Date.UTC(2026, 0, 5, 9);
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'hourglass-open-database-'));
  dirs.push(d);
  return d;
}

/** A baseline file as a newer release would leave it: schema `version`, `min_reader` if given. */
function newerFile(version: number, minReader?: number): string {
  const file = join(tempDir(), 'hourglass.db');
  openDatabase(file, silentLogger(), NOW).close();
  const db = new Database(file);
  db.exec('CREATE TABLE spans_of_a_later_release (x INTEGER)');
  if (minReader === undefined) db.prepare("DELETE FROM meta WHERE name = 'min_reader'").run();
  else db.prepare("UPDATE meta SET value = ? WHERE name = 'min_reader'").run(String(minReader));
  db.pragma(`user_version = ${version}`);
  db.close();
  return file;
}

const meta = (db: Database.Database, name: string) =>
  (db.prepare('SELECT value FROM meta WHERE name = ?').get(name) as { value: string } | undefined)
    ?.value;

describe('the baseline file across releases (schema version, min_reader)', () => {
  it('a new file says which releases may use it: this schema version and newer', () => {
    const db = openDatabase(join(tempDir(), 'hourglass.db'), silentLogger(), NOW);
    expect(db.pragma('user_version', { simple: true })).toBe(6);
    // Schema 4 ignores what 5 and 6 added (the keys' 10x counts, the anomalies' seq): a rollback
    // to it keeps the file.
    expect(meta(db, 'min_reader')).toBe('4');
    db.close();
  });

  it('rolls back: a newer release that admits this one leaves its file to it, unchanged', () => {
    const file = newerFile(7, 6);
    const db = openDatabase(file, silentLogger(), NOW);
    expect(db.pragma('user_version', { simple: true })).toBe(7);
    expect(meta(db, 'min_reader')).toBe('6');
    // What this version keeps in it still works.
    db.prepare(
      "INSERT INTO keys (service, operation, kind) VALUES ('checkout', 'GET /cart', 2)",
    ).run();
    expect(db.prepare('SELECT count(*) AS n FROM keys').get()).toEqual({ n: 1 });
    db.close();
  });

  it.each([
    ['that needs a newer release', 7, 7],
    ['that says nothing of older releases', 7, undefined],
  ])('refuses a newer file %s, saying which release it needs', (_what, version, minReader) => {
    const file = newerFile(version, minReader);
    let error: unknown;
    try {
      openDatabase(file, silentLogger(), NOW);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(StorageError);
    expect((error as Error).message).toBe(
      'the baseline database has schema version 7, which needs hourglass of schema version 7 or newer (this one: 6); upgrade hourglass or use another "storage" file',
    );
    // The file is left as it was, not moved aside as a corrupt one would be.
    const db = new Database(file);
    expect(db.pragma('user_version', { simple: true })).toBe(7);
    db.close();
  });
});
