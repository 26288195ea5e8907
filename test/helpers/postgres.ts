import { execFileSync, spawnSync } from 'node:child_process';
import {
  accessSync,
  chmodSync,
  chownSync,
  constants,
  mkdtempSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { freeAddresses } from './ports.js';

/** Debian's PostgreSQL 15 server binaries; HOURGLASS_PG_BIN names another directory. */
export function postgresBin(): string {
  return process.env['HOURGLASS_PG_BIN'] || '/usr/lib/postgresql/15/bin';
}

/** The password of the throwaway cluster's `hourglass` user (TCP logins need it: scram-sha-256). */
export const PG_PASSWORD = 'fleet-secret-7';

/**
 * A throwaway PostgreSQL cluster: `initdb` in a temporary directory, `pg_ctl` on a free port of
 * 127.0.0.1, password logins over TCP. initdb refuses to run as root, so as root the cluster is
 * made and run as `nobody` (setpriv); as any other user, as that user. Fails, saying what to
 * install, when the binaries are missing: these tests never skip.
 */
export class PgCluster {
  private constructor(
    readonly dir: string,
    readonly port: number,
    private readonly asUser: string[],
  ) {}

  /** `postgres://hourglass@127.0.0.1:PORT/DB` without the password (tests pass it by env or file). */
  url(database = 'hourglass'): string {
    return `postgres://hourglass@127.0.0.1:${this.port}/${database}`;
  }

  /** The URL with the password in it. */
  urlWithPassword(database = 'hourglass'): string {
    return `postgres://hourglass:${PG_PASSWORD}@127.0.0.1:${this.port}/${database}`;
  }

  static async start(): Promise<PgCluster> {
    const bin = postgresBin();
    try {
      accessSync(join(bin, 'initdb'), constants.X_OK);
    } catch {
      throw new Error(
        `no PostgreSQL server binaries in ${bin}: the fleet tests need a real server. Install them ` +
          'with `apt-get update && apt-get install -y postgresql` (Debian; .ci/run does), or set ' +
          'HOURGLASS_PG_BIN to the directory holding initdb and pg_ctl.',
      );
    }
    const dir = mkdtempSync(join(tmpdir(), 'hourglass-pg-'));
    const asUser =
      process.getuid?.() === 0
        ? ['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups', '--']
        : [];
    if (asUser.length > 0) {
      chownSync(dir, 65534, 65534);
      chmodSync(dir, 0o700);
    }
    const pwfile = join(dir, 'pw');
    writeFileSync(pwfile, `${PG_PASSWORD}\n`);
    if (asUser.length > 0) chownSync(pwfile, 65534, 65534);
    const [address] = await freeAddresses(1);
    const port = Number(address!.split(':')[1]);
    const cluster = new PgCluster(dir, port, asUser);
    cluster.run('initdb', [
      '-D',
      join(dir, 'data'),
      '-U',
      'hourglass',
      '--pwfile',
      pwfile,
      '--auth-local=trust',
      '--auth-host=scram-sha-256',
      '--no-sync',
      '-E',
      'UTF8',
      '--locale=C',
    ]);
    cluster.startServer();
    cluster.run('createdb', ['-h', dir, '-p', String(port), '-U', 'hourglass', 'hourglass']);
    return cluster;
  }

  /** Starts (or restarts) the server and waits until it accepts connections. */
  startServer(): void {
    this.run('pg_ctl', [
      '-D',
      join(this.dir, 'data'),
      '-l',
      join(this.dir, 'log'),
      '-w',
      '-t',
      '60',
      '-o',
      `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`,
      'start',
    ]);
  }

  /** Stops the server at once (`immediate`: no checkpoint, like a crash), or cleanly. */
  stopServer(mode: 'immediate' | 'fast' = 'fast'): void {
    this.run('pg_ctl', ['-D', join(this.dir, 'data'), '-m', mode, '-w', 'stop']);
  }

  /** Runs SQL through psql over the socket (trust), returning its unaligned output. */
  psql(sql: string, database = 'hourglass'): string {
    return this.run('psql', [
      '-h',
      this.dir,
      '-p',
      String(this.port),
      '-U',
      'hourglass',
      '-d',
      database,
      '-XAtqc',
      sql,
    ]).trim();
  }

  createDatabase(name: string): void {
    this.run('createdb', ['-h', this.dir, '-p', String(this.port), '-U', 'hourglass', name]);
  }

  /** Stops the server and removes the cluster's directory. */
  destroy(): void {
    spawnSync(
      this.asUser[0] ?? join(postgresBin(), 'pg_ctl'),
      [
        ...this.asUser.slice(1),
        ...(this.asUser.length > 0 ? [join(postgresBin(), 'pg_ctl')] : []),
        '-D',
        join(this.dir, 'data'),
        '-m',
        'immediate',
        '-w',
        'stop',
      ],
      { stdio: 'ignore' },
    );
    rmSync(this.dir, { recursive: true, force: true });
  }

  private run(tool: string, args: string[]): string {
    const cmd = [...this.asUser, join(postgresBin(), tool), ...args];
    try {
      return execFileSync(cmd[0]!, cmd.slice(1), {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
        cwd: this.dir,
      });
    } catch (err) {
      const e = err as { stderr?: string; stdout?: string };
      throw new Error(`${tool} failed: ${e.stderr ?? ''}${e.stdout ?? ''}`, { cause: err });
    }
  }
}

/**
 * One throwaway cluster for a test file (started before its tests, destroyed after them) and a
 * new database on it per call of `database()`.
 */
export function usePgCluster(): { cluster: () => PgCluster; database: () => string } {
  let cluster: PgCluster | undefined;
  let databases = 0;
  beforeAll(async () => {
    cluster = await PgCluster.start();
  }, 120_000);
  afterAll(() => cluster?.destroy());
  return {
    cluster: () => cluster!,
    database: () => {
      const name = `hourglass_${++databases}`;
      cluster!.createDatabase(name);
      return name;
    },
  };
}
