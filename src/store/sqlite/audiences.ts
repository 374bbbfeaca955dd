import type Database from 'better-sqlite3';
import { prepared } from './statements.ts';
import type { Audience, AudienceOrigin, AudiencePage, AudienceQuery, FirehoseAccess, FirehoseSender } from '../port.ts';
import { attentionCountSql, pageSql } from '../audience-page.ts';
import { firehoseAccessSql } from '../origin.ts';
import { toAudience, type AudienceRow } from '../rows.ts';
import { forgetDownstream } from './lease.ts';

/*
 * Audiences. The writes run inside the caller's IMMEDIATE transaction: deleteAudience reads the
 * downstream audiences and rewrites them with no claim or settle in between (one writer per file).
 */

const FIREHOSE_ACCESS_SQL = firehoseAccessSql('@audience', '@account', '@configuration');

export function putAudience(
  db: Database.Database,
  id: string,
  name: string,
  now: number,
  origin: AudienceOrigin,
): { audience: Audience; created: boolean; renamed: boolean; foreign?: boolean } {
  const row = db.prepare('SELECT * FROM audiences WHERE id = ?').get(id) as AudienceRow | undefined;
  if (!row) {
    const account = origin.kind === 'firehose' ? origin.account : null;
    db.prepare('INSERT INTO audiences (id, name, origin, origin_account, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)').run(
      id,
      name,
      origin.kind,
      account,
      now,
      now,
    );
    return { audience: { id, name, origin: origin.kind, originAccount: account, createdAt: now, updatedAt: now }, created: true, renamed: false };
  }
  if (origin.kind === 'firehose' && firehoseAccess(db, id, origin) !== 'owned')
    return { audience: toAudience(row), created: false, renamed: false, foreign: true };
  if (row.name === name) return { audience: toAudience(row), created: false, renamed: false };
  // The claim query compares each downstream's X name with the audience's: a rename follows.
  db.prepare('UPDATE audiences SET name = ?, updated_at = ? WHERE id = ?').run(name, now, id);
  return { audience: { ...toAudience(row), name, updatedAt: now }, created: false, renamed: true };
}

/** The rule of FirehoseAccess (port.ts), as one query; the PostgreSQL store runs the same SQL. */
export function firehoseAccess(db: Database.Database, audienceId: string, sender: FirehoseSender): FirehoseAccess {
  const row = prepared(db, FIREHOSE_ACCESS_SQL).get({ audience: audienceId, account: sender.account, configuration: sender.configurationId }) as
    { owned: number } | undefined;
  if (!row) return 'unknown';
  return row.owned ? 'owned' : 'foreign';
}

export function getAudience(db: Database.Database, id: string): Audience | null {
  const row = prepared(db, 'SELECT * FROM audiences WHERE id = ?').get(id) as AudienceRow | undefined;
  return row ? toAudience(row) : null;
}

export function listAudiences(db: Database.Database): (Audience & { members: number })[] {
  const rows = db.prepare('SELECT a.*, a.member_count AS members FROM audiences a ORDER BY a.created_at, a.id').all() as (AudienceRow & { members: number })[];
  return rows.map((r) => ({ ...toAudience(r), members: r.members }));
}

/** Maintained by the ledger in each ingest's transaction (ledger.ts); no count over the ledger. */
export function countMembers(db: Database.Database, audienceId: string): number {
  return (db.prepare('SELECT member_count FROM audiences WHERE id = ?').pluck().get(audienceId) as number | undefined) ?? 0;
}

/** Deleted (false: no such audience), and how many of its X audiences are now being deleted on X. */
export function deleteAudience(db: Database.Database, id: string, now: number, force = false): { deleted: boolean; xAudiences: number } {
  if (!db.prepare('SELECT 1 FROM audiences WHERE id = ?').get(id)) return { deleted: false, xAudiences: 0 };
  let xAudiences = 0;
  const rows = db.prepare("SELECT id, x_audience_id, create_attempt_name FROM downstreams WHERE audience_id = ? AND state <> 'deleting'").all(id) as {
    id: number;
    x_audience_id: string | null;
    create_attempt_name: string | null;
  }[];
  for (const d of rows) {
    if (d.x_audience_id === null && d.create_attempt_name === null) {
      forgetDownstream(db, d.id); // never reached X
      continue;
    }
    if (d.x_audience_id !== null) xAudiences += 1;
    db.prepare('DELETE FROM outbox WHERE downstream_id = ?').run(d.id);
    db.prepare("UPDATE downstreams SET state = 'deleting', next_attempt_at = 0, attempts = 0, delete_force = ?, updated_at = ? WHERE id = ?").run(
      +force,
      now,
      d.id,
    );
  }
  db.prepare('DELETE FROM members WHERE audience_id = ?').run(id);
  db.prepare('DELETE FROM hash_holders WHERE audience_id = ?').run(id);
  db.prepare('DELETE FROM rejections WHERE audience_id = ?').run(id);
  db.prepare('DELETE FROM connections WHERE audience_id = ?').run(id);
  db.prepare('DELETE FROM audiences WHERE id = ?').run(id);
  return { deleted: true, xAudiences };
}

/** A deleted audience's X audiences waiting on campaigns: delete them anyway (the campaign guard, sync/tasks/delete.ts). */
export function forceDeletions(db: Database.Database, audienceId: string, now: number): number {
  return db
    .prepare("UPDATE downstreams SET delete_force = 1, next_attempt_at = 0, updated_at = ? WHERE audience_id = ? AND state = 'deleting'")
    .run(now, audienceId).changes;
}

/**
 * One page of the audience list (AudienceQuery, the SQL in ../audience-page.ts) and the count of
 * audiences needing attention: two plain reads, each a consistent WAL snapshot.
 */
export function listAudiencePage(db: Database.Database, query: AudienceQuery): AudiencePage {
  const { where, order, args, keyExpr } = pageSql(query, '0', 'instr');
  const rows = prepared(db, `SELECT a.*, a.member_count AS members, ${keyExpr} AS sort_key FROM audiences a ${where} ${order} LIMIT ?`).all(
    ...args,
    query.limit + 1,
  ) as (AudienceRow & { members: number; sort_key: string | number })[];
  const attention = prepared(db, attentionCountSql('0')).pluck().get() as number;
  const more = rows.length > query.limit;
  return { audiences: rows.slice(0, query.limit).map((r) => ({ ...toAudience(r), members: r.members, sortKey: r.sort_key })), more, attention };
}
