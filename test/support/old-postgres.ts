/**
 * A PostgreSQL database as an older Tailor left it, for the migration tests: a throwaway database
 * migrated up to a version, then rows written with the statements a test gives. The pool stays
 * open for the test's looks (one connection: the tests read in order); `open` starts a store on
 * the database (which migrates it to today), `cleanup` closes them all and drops the database.
 */
import pg from 'pg';
import type { Store } from '../../src/store/port.ts';
import { openPostgresStore } from '../../src/store/postgres/index.ts';
import { migrate } from '../../src/store/postgres/migrate.ts';
import { createTestDatabase } from '../store/pg.ts';

export interface OldPostgres {
  pool: pg.Pool;
  open(): Promise<Store>;
  /** The newest migration applied. */
  version(): Promise<number>;
  cleanup(): Promise<void>;
}

export async function buildOldPostgres(upTo: number, statements: [string, unknown[]][]): Promise<OldPostgres> {
  const tdb = await createTestDatabase();
  const pool = new pg.Pool({ connectionString: tdb.url, max: 1 });
  await migrate(pool, {}, upTo);
  for (const [sql, params] of statements) await pool.query(sql, params);
  const stores: Store[] = [];
  return {
    pool,
    async open() {
      const s = await openPostgresStore(tdb.url);
      stores.push(s);
      return s;
    },
    version: async () => (await pool.query<{ v: number }>('SELECT MAX(version) AS v FROM schema_migrations')).rows[0]!.v,
    async cleanup() {
      for (const s of stores) await s.close();
      await pool.end();
      await tdb.drop();
    },
  };
}
