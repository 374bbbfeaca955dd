/**
 * The audience list's reads go through indexes (migration 0022), not through every row: a page in
 * each sort order walks its index instead of sorting all audiences, and "needs attention" (the
 * header's count and the filter) reads the partial index `downstreams_attention` and the paused
 * configurations' rows. A partial index is used only while the query's condition matches the
 * index's own, so a change to ../../src/store/audience-page.ts rowAttentionSql that forgets the
 * migration fails here rather than slowing the list down unnoticed. What the pages hold is
 * status.contract.test.ts's.
 */
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { attentionCountSql, pageSql, SORT_KEYS } from '../../src/store/audience-page.ts';
import type { AudienceSort } from '../../src/store/port.ts';
import { openPostgresStore } from '../../src/store/postgres/index.ts';
import { SqliteStore } from '../../src/store/sqlite/index.ts';
import { createTestDatabase } from './pg.ts';

const SORTS = Object.keys(SORT_KEYS) as AudienceSort[];
const page = (sort: AudienceSort, state?: 'attention' | 'ok', dialect: 'sqlite' | 'postgres' = 'sqlite'): { sql: string; args: unknown[] } => {
  const { where, order, args, keyExpr } = pageSql(
    { sort, limit: 50, ...(state ? { state } : {}) },
    dialect === 'sqlite' ? '0' : 'false',
    dialect === 'sqlite' ? 'instr' : 'strpos',
  );
  let n = 0;
  const sql = `SELECT a.*, ${keyExpr} AS sort_key FROM audiences a ${where} ${order} LIMIT 51`;
  return { sql: dialect === 'sqlite' ? sql : sql.replace(/\?/g, () => `$${++n}`), args };
};

describe('the audience list reads through indexes (sqlite)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tailor-list-idx-'));
  const file = join(dir, 'tailor.db');

  const plan = (sql: string, args: unknown[] = []): string => {
    const db = new Database(file, { readonly: true });
    try {
      return (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...args) as { detail: string }[]).map((r) => r.detail).join(' | ');
    } finally {
      db.close();
    }
  };

  it('each sort walks its own index, with no sort of the whole list', async () => {
    await SqliteStore.open(file).close();
    for (const sort of SORTS) {
      const p = plan(page(sort).sql);
      expect(p, sort).toMatch(/USING (COVERING )?INDEX audiences_by_/);
      expect(p, sort).not.toContain('TEMP B-TREE');
    }
  });

  it('"needs attention" reads the partial index and the paused configurations by index', () => {
    for (const sql of [attentionCountSql('0'), page('name', 'attention').sql, page('name', 'ok').sql]) {
      const p = plan(sql);
      expect(p).toContain('downstreams_attention');
      expect(p).toContain('downstreams_by_configuration');
      expect(p).not.toMatch(/SCAN (d|downstreams)( \||$)/); // a SCAN with no USING INDEX reads every row
    }
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('the audience list reads through indexes (postgres)', () => {
  it('"needs attention" and the sorts can use their indexes', async () => {
    const db = await createTestDatabase();
    try {
      await (await openPostgresStore(db.url)).close();
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      try {
        // Empty tables: the planner would scan them whatever the indexes. Without sequential scans,
        // an index it can use is one it takes.
        await client.query('SET enable_seqscan = off');
        const plan = async (sql: string, args: unknown[] = []): Promise<string> =>
          (await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${sql}`, args)).rows.map((r) => r['QUERY PLAN']).join('\n');
        for (const sql of [attentionCountSql('false'), page('name', 'attention', 'postgres').sql]) {
          expect(await plan(sql)).toContain('downstreams_attention');
        }
        for (const sort of SORTS) expect(await plan(page(sort, undefined, 'postgres').sql), sort).toMatch(/audiences_by_/);
      } finally {
        await client.end();
      }
    } finally {
      await db.drop();
    }
  });
});
