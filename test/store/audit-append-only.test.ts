/** The audit log's table refuses to be rewritten, on both dialects (migration 0015's triggers). */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { openPostgresStore } from '../../src/store/postgres/index.ts';
import { SqliteStore } from '../../src/store/sqlite/index.ts';
import { createTestDatabase } from './pg.ts';

describe('the audit log is append-only', () => {
  it('SQLite refuses UPDATE and DELETE', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tailor-audit-'));
    const store = SqliteStore.open(join(dir, 'tailor.db'));
    try {
      await store.putAudience('a1', 'Audited', 1, 'admin_token'); // writes its entry
      // A connection of its own: the store's serving one is read-only beside its writer thread.
      const db = new Database(join(dir, 'tailor.db'));
      expect(() => db.prepare("UPDATE audit_log SET actor = 'cli'").run()).toThrow(/append-only/);
      expect(() => db.prepare('DELETE FROM audit_log').run()).toThrow(/append-only/);
      db.close();
      expect((await store.listAudit({ limit: 10 })).map((e) => e.actor)).toEqual(['admin_token']);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('PostgreSQL refuses UPDATE, DELETE and TRUNCATE', async () => {
    const db = await createTestDatabase();
    const store = await openPostgresStore(db.url);
    const client = new pg.Client({ connectionString: db.url });
    try {
      await store.putAudience('a1', 'Audited', 1, 'admin_token'); // writes its entry
      await client.connect();
      await expect(client.query("UPDATE audit_log SET actor = 'cli'")).rejects.toThrow(/append-only/);
      await expect(client.query('DELETE FROM audit_log')).rejects.toThrow(/append-only/);
      await expect(client.query('TRUNCATE audit_log')).rejects.toThrow(/append-only/);
      expect((await store.listAudit({ limit: 10 })).map((e) => e.actor)).toEqual(['admin_token']);
    } finally {
      await client.end();
      await store.close();
      await db.drop();
    }
  });
});
