import { afterAll, beforeAll } from 'vitest';
import { PgCluster } from './postgres.js';

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
