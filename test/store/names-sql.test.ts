/** The claim finds renames by computing X names in SQL: that SQL must agree with core/names.ts. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { downstreamName } from '../../src/core/names.ts';
import { IDENTITY_TYPES } from '../../src/core/terms.ts';
import { downstreamNameSql } from '../../src/store/postgres/claim.ts';
import { createTestDatabase, type TestDatabase } from './pg.ts';

describe('downstream names in SQL (postgres)', () => {
  let db: TestDatabase;
  let client: pg.Client;
  beforeAll(async () => {
    db = await createTestDatabase();
    client = new pg.Client({ connectionString: db.url });
    await client.connect();
  });
  afterAll(async () => {
    await client?.end();
    await db?.drop();
  });

  it('matches downstreamName() for every type, suffixes and awkward names', async () => {
    const sql = `SELECT ${downstreamNameSql('$1::text', '$2::text', '$3::int')} AS name`;
    for (const audience of ['Buyers', "O'Brien's list", 'Été 2026 — fans', '  spaced  ', 'x [2]']) {
      for (const type of IDENTITY_TYPES) {
        for (const suffix of [1, 2, 17]) {
          const r = await client.query<{ name: string }>(sql, [audience, type, suffix]);
          expect(r.rows[0]!.name).toBe(downstreamName(audience, type, suffix));
        }
      }
    }
  });
});
