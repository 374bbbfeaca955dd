/** The claims find renames by computing X names in SQL: that SQL must agree with core/names.ts, on both dialects. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import pg from 'pg';
import { downstreamName } from '../../src/core/names.ts';
import { IDENTITY_TYPES } from '../../src/core/terms.ts';
import { downstreamNameSql } from '../../src/store/name-sql.ts';
import { createTestDatabase, type TestDatabase } from './pg.ts';

const AUDIENCES = ['Buyers', "O'Brien's list", 'Été 2026 — fans', '  spaced  ', 'x [2]'];
const SUFFIXES = [1, 2, 17];

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
    for (const audience of AUDIENCES) {
      for (const type of IDENTITY_TYPES) {
        for (const suffix of SUFFIXES) {
          const r = await client.query<{ name: string }>(sql, [audience, type, suffix]);
          expect(r.rows[0]!.name).toBe(downstreamName(audience, type, suffix));
        }
      }
    }
  });
});

describe('downstream names in SQL (sqlite)', () => {
  it('matches downstreamName() for every type, suffixes and awkward names', () => {
    const db = new Database(':memory:');
    try {
      // The suffix as the claim reads it, from an INTEGER column (a bound JS number is a REAL: '2.0').
      const name = db.prepare(`SELECT ${downstreamNameSql('@audience', '@type', 'CAST(@suffix AS INTEGER)')}`).pluck();
      for (const audience of AUDIENCES) {
        for (const type of IDENTITY_TYPES) {
          for (const suffix of SUFFIXES) expect(name.get({ audience, type, suffix })).toBe(downstreamName(audience, type, suffix));
        }
      }
    } finally {
      db.close();
    }
  });
});
