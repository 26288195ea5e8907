import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import type Database from 'better-sqlite3';
import type { Logger } from 'pino';
import { AnomalyStore } from './anomaly-store.js';
import { BaselineStore } from './baseline-store.js';
import { IncidentStore } from '../../incidents/incident-store.js';
import { LevelStore } from './level-store.js';
import { openDatabase } from './open-database.js';
import { RateStore } from './rate-store.js';
import { trimStore } from './trim-store.js';

export type OpenState = 'open' | 'reopened' | 'unavailable';

/**
 * The processor's handle on its SQLite file, which may fail at any time without stopping the
 * traffic path: when it cannot be opened, or a write fails, the error is logged once (and counted)
 * and the processor keeps scoring from memory; each flush tries again. A file removed or replaced
 * under a running sidecar is noticed (by inode) and recreated.
 */
export class Storage {
  baselines: BaselineStore | undefined;
  anomalies: AnomalyStore | undefined;
  incidents: IncidentStore | undefined;
  /** The error and traffic baselines (rates/). */
  rates: RateStore | undefined;
  /** The keys' levels (level.ts). */
  levels: LevelStore | undefined;
  private db: Database.Database | undefined;
  private inode: number | undefined;
  private failing = false;
  readonly file: string;
  /** Failed opens and writes (read by the metrics). */
  failures = 0;

  constructor(
    path: string,
    private readonly timeZone: string,
    private readonly logger: Logger,
  ) {
    this.file = resolve(path);
  }

  get available(): boolean {
    return this.db !== undefined;
  }

  /** Opens the database if it is not open, or reopens it if its file was removed or replaced. */
  ensureOpen(now: number): OpenState {
    if (this.db && this.sameFile()) return 'open';
    const wasOpen = this.db !== undefined;
    if (wasOpen) {
      this.logger.error(
        { storage: this.file },
        'the baseline database file was removed or replaced while running; creating it again',
      );
      this.close();
    }
    try {
      const db = openDatabase(this.file, this.logger, now);
      this.db = db;
      this.baselines = new BaselineStore(db);
      this.anomalies = new AnomalyStore(db);
      this.incidents = new IncidentStore(db);
      this.rates = new RateStore(db);
      this.levels = new LevelStore(db);
      this.inode = statSync(this.file).ino;
      this.checkTimeZone();
      if (this.failing)
        this.logger.info({ storage: this.file }, 'the baseline database is usable again');
      this.failing = false;
      return wasOpen || this.failures > 0 ? 'reopened' : 'open';
    } catch (err) {
      this.fail(err, 'cannot open the baseline database; detection continues from memory');
      return 'unavailable';
    }
  }

  /**
   * Runs `fn` in one write transaction. On failure the error is logged (once per incident) and
   * counted, the database is closed so the next call reopens it, and undefined is returned.
   */
  write<T>(fn: (b: BaselineStore, a: AnomalyStore) => T): T | undefined {
    const b = this.baselines;
    const a = this.anomalies;
    if (!b || !a) return undefined;
    try {
      return b.transaction(() => fn(b, a));
    } catch (err) {
      this.fail(err, 'writing to the baseline database failed; will retry at the next flush');
      this.close();
      return undefined;
    }
  }

  /**
   * Trims what does not fit this version's bounds (names longer than MAX_NAME_BYTES, more keys
   * than `maxKeys`) before the baselines are read; logs what it did. False when it failed.
   */
  trim(maxKeys: number, sinceDay: number): boolean {
    if (!this.db) return false;
    try {
      const r = trimStore(this.db, maxKeys, sinceDay);
      if (r.namesCut > 0 || r.keysDeleted > 0) {
        this.logger.warn(
          { storage: this.file, ...r, maxKeys },
          'the baseline database held names longer than 256 bytes or more keys than max_keys: names cut, keys beyond the limit deleted',
        );
      }
      return true;
    } catch (err) {
      this.fail(err, 'cannot trim the baseline database to its bounds');
      return false;
    }
  }

  close(): void {
    try {
      this.db?.close();
    } catch {
      // Closing a broken handle can fail too; it is dropped either way.
    }
    this.db = undefined;
    this.baselines = undefined;
    this.anomalies = undefined;
    this.incidents = undefined;
    this.rates = undefined;
    this.levels = undefined;
  }

  private fail(err: unknown, message: string): void {
    this.failures++;
    if (this.failing) return;
    this.failing = true;
    this.logger.error({ err, storage: this.file }, message);
  }

  private sameFile(): boolean {
    try {
      return statSync(this.file).ino === this.inode;
    } catch {
      return false;
    }
  }

  private checkTimeZone(): void {
    const b = this.baselines!;
    const stored = b.getMeta('timezone');
    if (stored === undefined) {
      b.setMeta('timezone', this.timeZone);
    } else if (stored !== this.timeZone) {
      this.logger.warn(
        { storage: this.file, stored, configured: this.timeZone },
        'the baseline database was learned in another time zone: its hour buckets are shifted until the window has rolled over; use a new "storage" file to start clean',
      );
      b.setMeta('timezone', this.timeZone);
    }
  }
}
