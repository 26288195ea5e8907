import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import pg from 'pg';
import { StorageError } from './open-database.js';

/** How to reach the shared baseline database (the processor's `storage` URL and `postgres` block). */
export interface PgSettings {
  /** `postgres://user[:password]@host[:port]/database[?sslmode=...]` */
  readonly url: string;
  /** A file holding the password (a mounted secret); else the URL's, else `PGPASSWORD`. */
  readonly passwordFile?: string | undefined;
  /** PEM file of the CA that signed the server's certificate (TLS verified against it). */
  readonly caFile?: string | undefined;
  /** Connect, statement and lock waits are bounded by this: the database is never waited on long. */
  readonly timeoutMs: number;
  /** Connections kept open at most. */
  readonly maxConnections?: number | undefined;
}

/** True when `storage` names a PostgreSQL database rather than a SQLite file. */
export function isPostgresUrl(storage: string): boolean {
  return /^postgres(ql)?:\/\//i.test(storage);
}

/** The URL without its password, for logs and errors. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    u.password = '';
    u.search = '';
    return u.toString();
  } catch {
    return 'postgres://(unparsable URL)';
  }
}

/**
 * A connection pool for the settings: TLS as libpq's `sslmode` says (`disable`, `prefer` and
 * `allow` connect in plain text; `require` encrypts and, as in libpq, verifies only with a CA file;
 * `verify-ca` and `verify-full` verify against the CA file or the system's CAs), the password from
 * the URL, the file or `PGPASSWORD`, in that order. Errors of connections outside a query are
 * handed to `onIdleError` (unhandled, they would end the process).
 */
export function createPool(s: PgSettings, onIdleError: (err: Error) => void): pg.Pool {
  let u: URL;
  try {
    u = new URL(s.url);
  } catch (err) {
    throw new StorageError(`storage: ${redactUrl(s.url)} is not a PostgreSQL URL`, { cause: err });
  }
  const mode = u.searchParams.get('sslmode') ?? 'disable';
  let ca: string | undefined;
  if (s.caFile) {
    try {
      ca = readFileSync(s.caFile, 'utf8');
    } catch (err) {
      throw new StorageError(`postgres.ca_file: cannot read ${s.caFile}`, { cause: err });
    }
  }
  let ssl: ConnectionOptions | false;
  if (mode === 'disable' || mode === 'allow' || mode === 'prefer') ssl = false;
  else if (mode === 'require')
    ssl = ca ? { ca, checkServerIdentity: () => undefined } : { rejectUnauthorized: false };
  else if (mode === 'verify-ca')
    ssl = { ...(ca ? { ca } : {}), checkServerIdentity: () => undefined };
  else if (mode === 'verify-full') ssl = ca ? { ca } : {};
  else
    throw new StorageError(
      `storage: sslmode=${mode} is not one of disable, require, verify-ca, verify-full`,
    );
  let password: string | undefined = u.password ? decodeURIComponent(u.password) : undefined;
  if (password === undefined && s.passwordFile) {
    try {
      password = readFileSync(s.passwordFile, 'utf8').replace(/\r?\n$/, '');
    } catch (err) {
      throw new StorageError(`postgres.password_file: cannot read ${s.passwordFile}`, {
        cause: err,
      });
    }
  }
  const pool = new pg.Pool({
    host: u.hostname.replace(/^\[|\]$/g, ''),
    port: u.port ? Number(u.port) : 5432,
    database: decodeURIComponent(u.pathname.replace(/^\//, '')) || undefined,
    user: u.username ? decodeURIComponent(u.username) : undefined,
    ...(password !== undefined ? { password } : {}),
    ssl,
    max: s.maxConnections ?? 4,
    connectionTimeoutMillis: s.timeoutMs,
    idleTimeoutMillis: 30_000,
    statement_timeout: s.timeoutMs,
    query_timeout: s.timeoutMs + 1000,
    application_name: 'hourglass',
    types: { getTypeParser },
  });
  pool.on('error', onIdleError);
  // A connection lost while checked out (holding a lock, between statements) errors on its client.
  pool.on('connect', (client) => client.on('error', onIdleError));
  return pool;
}

const INT8 = 20;

/** BIGINT columns (counts, times) as numbers: they stay far below 2^53. */
function getTypeParser(oid: number, format?: 'text' | 'binary'): (value: string) => unknown {
  if (oid === INT8) return (v: string) => Number(v);
  return pg.types.getTypeParser(oid, format as 'text');
}
