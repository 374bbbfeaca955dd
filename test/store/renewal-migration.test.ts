/**
 * Migration 0007 on both dialects: rows X confirmed before it get their downstream audience's
 * creation time as their confirmation (never later than the real one, so no renewal comes late);
 * uncertain rows get none (they are sent anyway).
 */
import Database from 'better-sqlite3';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { migrate as migrateSqlite } from '../../src/store/sqlite/open.ts';
import { migrate as migratePostgres } from '../../src/store/postgres/migrate.ts';
import { h } from './helpers.ts';
import { createTestDatabase } from './pg.ts';

const CREATED = 1_700_000_000_000;

/** The migration files before 0007, in order. */
function before7(dialect: 'sqlite' | 'postgres'): [number, string][] {
  const dir = join(import.meta.dirname, '../../src/store', dialect, 'migrations');
  return readdirSync(dir)
    .filter((f) => /^\d{4}_.*\.sql$/.test(f) && Number(f.slice(0, 4)) < 7)
    .sort()
    .map((f) => [Number(f.slice(0, 4)), readFileSync(join(dir, f), 'utf8')]);
}

describe('migration 0007: confirmed_at of rows confirmed before it', () => {
  it('sqlite', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tailor-mig-'));
    const db = new Database(join(dir, 'tailor.db'));
    try {
      db.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)');
      for (const [version, sql] of before7('sqlite')) {
        db.exec(sql);
        db.prepare('INSERT INTO schema_migrations VALUES (?, 0)').run(version);
      }
      db.prepare("INSERT INTO configurations (id, name, account_id, tokens, created_at, updated_at) VALUES ('c', 'c', 'a', 't', 0, 0)").run();
      db.prepare(
        "INSERT INTO downstreams (id, audience_id, configuration_id, identity_type, state, x_audience_id, created_at, updated_at) VALUES (1, 'a1', 'c', 'email', 'active', 'x1', ?, ?)",
      ).run(CREATED, CREATED);
      db.prepare('INSERT INTO x_members (downstream_id, hash, confirmed) VALUES (1, ?, 1), (1, ?, 0)').run(h(1), h(2));
      expect(migrateSqlite(db, {}, 8)).toContain(7); // the layout as 0008 left it (0009 makes hashes binary)
      expect(db.prepare('SELECT hash, confirmed_at FROM x_members ORDER BY hash').all()).toEqual([
        { hash: h(1), confirmed_at: CREATED },
        { hash: h(2), confirmed_at: null },
      ]);
      expect(db.prepare('SELECT renewed, renew_claimed_at FROM downstreams').get()).toEqual({ renewed: 0, renew_claimed_at: 0 });
    } finally {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('postgres', async () => {
    const test = await createTestDatabase();
    const pool = new pg.Pool({ connectionString: test.url, max: 1 });
    try {
      await pool.query('CREATE TABLE schema_migrations (version integer PRIMARY KEY, applied_at bigint NOT NULL)');
      for (const [version, sql] of before7('postgres')) {
        await pool.query(sql);
        await pool.query('INSERT INTO schema_migrations VALUES ($1, 0)', [version]);
      }
      await pool.query("INSERT INTO configurations (id, name, account_id, tokens, created_at, updated_at) VALUES ('c', 'c', 'a', 't', 0, 0)");
      await pool.query(
        "INSERT INTO downstreams (id, audience_id, configuration_id, identity_type, state, x_audience_id, created_at, updated_at) VALUES (1, 'a1', 'c', 'email', 'active', 'x1', $1, $1)",
        [CREATED],
      );
      await pool.query('INSERT INTO x_members (downstream_id, hash, confirmed) VALUES (1, $1, true), (1, $2, false), (9, $3, true)', [h(1), h(2), h(3)]);
      expect(await migratePostgres(pool, {}, 8)).toContain(7); // the layout as 0008 left it (0009 makes hashes binary)
      const rows = await pool.query('SELECT hash, confirmed_at::text AS confirmed_at FROM x_members ORDER BY hash');
      expect(rows.rows).toEqual([
        { hash: h(1), confirmed_at: String(CREATED) },
        { hash: h(2), confirmed_at: null },
        { hash: h(3), confirmed_at: '0' }, // no downstream row left: due at once, the safe side
      ]);
    } finally {
      await pool.end();
      await test.drop();
    }
  });
});
