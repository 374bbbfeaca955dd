import type { Audience, AudienceOrigin, AudiencePage, AudienceQuery, FirehoseAccess, FirehoseSender } from '../port.ts';
import { attentionCountSql, pageSql } from '../audience-page.ts';
import { firehoseAccessSql } from '../origin.ts';
import { toAudience, type AudienceRow } from '../rows.ts';
import type { Reader, Sql } from './db.ts';
import { forgetDownstreams } from './lease.ts';
import { lockStructure } from './locks.ts';
import { NOTIFY_STRUCTURE } from './wake.ts';

/*
 * Audiences. putAudience locks the audience row alone; deleteAudience is a structural change and
 * follows the lock order of locks.ts (advisory lock EXCLUSIVE, downstream rows by id, then the
 * audience row). Both run in the caller's transaction (index.ts).
 */

const FIREHOSE_ACCESS_SQL = firehoseAccessSql('$1', '$2', '$3');

export async function putAudience(
  c: Sql,
  id: string,
  name: string,
  now: number,
  origin: AudienceOrigin,
): Promise<{ audience: Audience; created: boolean; renamed: boolean; foreign?: boolean }> {
  // The upsert locks an existing row (a no-op update) in the same statement that finds it.
  const upserted = await c.query<AudienceRow & { inserted: boolean }>(
    `INSERT INTO audiences AS a (id, name, origin, origin_account, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5)
     ON CONFLICT (id) DO UPDATE SET id = a.id RETURNING a.*, (xmax = 0) AS inserted`,
    [id, name, origin.kind, origin.kind === 'firehose' ? origin.account : null, now],
  );
  const row = upserted.rows[0]!;
  if (row.inserted) return { audience: toAudience(row), created: true, renamed: false };
  if (origin.kind === 'firehose' && (await firehoseAccess(c, id, origin)) !== 'owned')
    return { audience: toAudience(row), created: false, renamed: false, foreign: true };
  if (row.name === name) return { audience: toAudience(row), created: false, renamed: false };
  // The claim compares each downstream's X name with the audience's: a rename follows.
  await c.query('UPDATE audiences SET name = $2, updated_at = $3 WHERE id = $1', [id, name, now]);
  await c.query(NOTIFY_STRUCTURE);
  return { audience: { ...toAudience(row), name, updatedAt: now }, created: false, renamed: true };
}

/** The rule of FirehoseAccess (port.ts), as one query; the SQLite store runs the same SQL. */
export async function firehoseAccess(c: Reader, audienceId: string, sender: FirehoseSender): Promise<FirehoseAccess> {
  const row = (await c.query<{ owned: number }>(FIREHOSE_ACCESS_SQL, [audienceId, sender.account, sender.configurationId])).rows[0];
  return !row ? 'unknown' : row.owned ? 'owned' : 'foreign';
}

export async function getAudience(c: Reader, id: string): Promise<Audience | null> {
  const row = (await c.query<AudienceRow>('SELECT * FROM audiences WHERE id = $1', [id])).rows[0];
  return row ? toAudience(row) : null;
}

export async function listAudiences(c: Reader): Promise<(Audience & { members: number })[]> {
  const rows = await c.query<AudienceRow & { members: number }>('SELECT a.*, a.member_count AS members FROM audiences a ORDER BY a.created_at, a.id');
  return rows.rows.map((r) => ({ ...toAudience(r), members: r.members }));
}

/** Maintained by the ledger in each ingest's transaction (ledger.ts); no count over the ledger. */
export async function countMembers(c: Reader, audienceId: string): Promise<number> {
  return (await c.query<{ n: number }>('SELECT member_count AS n FROM audiences WHERE id = $1', [audienceId])).rows[0]?.n ?? 0;
}

/** Deleted (false: no such audience), and how many of its X audiences are now being deleted on X. */
export async function deleteAudience(c: Sql, id: string, now: number, force = false): Promise<{ deleted: boolean; xAudiences: number }> {
  const downs = await lockStructure(c, id, "AND state <> 'deleting'");
  if ((await c.query('SELECT 1 FROM audiences WHERE id = $1 FOR UPDATE', [id])).rowCount === 0) return { deleted: false, xAudiences: 0 };
  const never = downs.filter((d) => d.x_audience_id === null && d.create_attempt_name === null).map((d) => d.id); // never reached X
  const reached = downs.filter((d) => !never.includes(d.id)).map((d) => d.id);
  await forgetDownstreams(c, never);
  if (reached.length > 0) {
    await c.query('DELETE FROM outbox WHERE downstream_id = ANY($1::bigint[])', [reached]);
    await c.query(
      "UPDATE downstreams SET state = 'deleting', next_attempt_at = 0, attempts = 0, delete_force = $3, updated_at = $2 WHERE id = ANY($1::bigint[])",
      [reached, now, force],
    );
  }
  for (const table of ['members', 'hash_holders', 'rejections', 'connections']) {
    await c.query(`DELETE FROM ${table} WHERE audience_id = $1`, [id]);
  }
  await c.query('DELETE FROM audiences WHERE id = $1', [id]);
  await c.query(NOTIFY_STRUCTURE);
  return { deleted: true, xAudiences: downs.filter((d) => d.x_audience_id !== null).length };
}

/** A deleted audience's X audiences waiting on campaigns: delete them anyway (the campaign guard, sync/tasks/delete.ts). Rows by id (locks.ts step 2). */
export async function forceDeletions(c: Sql, audienceId: string, now: number): Promise<number> {
  const ids = (
    await c.query<{ id: number }>("SELECT id FROM downstreams WHERE audience_id = $1 AND state = 'deleting' ORDER BY id FOR UPDATE", [audienceId])
  ).rows.map((r) => r.id);
  if (ids.length === 0) return 0;
  await c.query('UPDATE downstreams SET delete_force = true, next_attempt_at = 0, updated_at = $2 WHERE id = ANY($1::bigint[])', [ids, now]);
  await c.query(NOTIFY_STRUCTURE);
  return ids.length;
}

/** `?` placeholders as PostgreSQL's `$n`, in order. */
export function numbered(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

/**
 * One page of the audience list (AudienceQuery, the SQL in ../audience-page.ts) and the count of
 * audiences needing attention: two plain reads on the pool, no lock (READ COMMITTED).
 */
export async function listAudiencePage(c: Reader, query: AudienceQuery): Promise<AudiencePage> {
  const { where, order, args, keyExpr } = pageSql(query, 'false', 'strpos');
  const rows = await c.query<AudienceRow & { members: number; sort_key: string | number }>(
    numbered(`SELECT a.*, a.member_count AS members, ${keyExpr} AS sort_key FROM audiences a ${where} ${order} LIMIT ?`),
    [...args, query.limit + 1],
  );
  const attention = await c.query<{ n: number }>(attentionCountSql('false'));
  const more = rows.rows.length > query.limit;
  return {
    audiences: rows.rows.slice(0, query.limit).map((r) => ({ ...toAudience(r), members: r.members, sortKey: r.sort_key })),
    more,
    attention: Number(attention.rows[0]?.n ?? 0),
  };
}
