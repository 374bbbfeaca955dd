/**
 * Migration 0011 on both dialects: connections made before it get Forward Phone Numbers OFF (the
 * issue's rule: turning it on unasked would start sending a new kind of personal data), and the
 * other three toggles are left as they were.
 */
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { migrate as migrateSqlite } from '../../src/store/sqlite/open.ts';
import { migrate as migratePostgres } from '../../src/store/postgres/migrate.ts';
import { createTestDatabase } from './pg.ts';

const BEFORE = 10; // the last version a database could have before 0011 (0009 and 0010 are others')
const CONNECTION = `INSERT INTO connections (audience_id, configuration_id, forward_emails, forward_handles, forward_device_ids, created_at, updated_at)`;

describe('migration 0011: forward_phone_numbers of existing connections', () => {
  it('sqlite', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tailor-mig-'));
    const db = new Database(join(dir, 'tailor.db'));
    try {
      expect(migrateSqlite(db, {}, BEFORE)).not.toContain(11);
      db.prepare("INSERT INTO configurations (id, name, account_id, tokens, created_at, updated_at) VALUES ('c', 'c', 'a', 't', 0, 0)").run();
      db.prepare("INSERT INTO audiences (id, name, created_at, updated_at) VALUES ('a1', 'A', 0, 0), ('a2', 'B', 0, 0)").run();
      db.prepare(`${CONNECTION} VALUES ('a1', 'c', 1, 1, 1, 0, 0), ('a2', 'c', 0, 1, 0, 0, 0)`).run();
      expect(migrateSqlite(db)).toContain(11);
      expect(
        db.prepare('SELECT audience_id, forward_emails, forward_handles, forward_device_ids, forward_phone_numbers FROM connections ORDER BY 1').all(),
      ).toEqual([
        { audience_id: 'a1', forward_emails: 1, forward_handles: 1, forward_device_ids: 1, forward_phone_numbers: 0 },
        { audience_id: 'a2', forward_emails: 0, forward_handles: 1, forward_device_ids: 0, forward_phone_numbers: 0 },
      ]);
    } finally {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('postgres', async () => {
    const test = await createTestDatabase();
    const pool = new pg.Pool({ connectionString: test.url, max: 1 });
    try {
      expect(await migratePostgres(pool, {}, BEFORE)).not.toContain(11);
      await pool.query("INSERT INTO configurations (id, name, account_id, tokens, created_at, updated_at) VALUES ('c', 'c', 'a', 't', 0, 0)");
      await pool.query("INSERT INTO audiences (id, name, created_at, updated_at) VALUES ('a1', 'A', 0, 0), ('a2', 'B', 0, 0)");
      await pool.query(`${CONNECTION} VALUES ('a1', 'c', true, true, true, 0, 0), ('a2', 'c', false, true, false, 0, 0)`);
      expect(await migratePostgres(pool)).toContain(11);
      const rows = await pool.query(
        'SELECT audience_id, forward_emails, forward_handles, forward_device_ids, forward_phone_numbers FROM connections ORDER BY 1',
      );
      expect(rows.rows).toEqual([
        { audience_id: 'a1', forward_emails: true, forward_handles: true, forward_device_ids: true, forward_phone_numbers: false },
        { audience_id: 'a2', forward_emails: false, forward_handles: true, forward_device_ids: false, forward_phone_numbers: false },
      ]);
    } finally {
      await pool.end();
      await test.drop();
    }
  });
});
