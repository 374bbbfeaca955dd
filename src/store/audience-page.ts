/*
 * The audience list's page query (AudienceQuery), written once for both dialects: the sort keys,
 * the search and the "needs attention" rule. Each adapter's audiences.ts binds the values.
 */
import type { AudienceQuery, AudienceSort } from './port.ts';

/** The expression each sort orders by (then by id, so the order is total and a cursor is exact). */
export const SORT_KEYS: Record<AudienceSort, { expr: string; desc: boolean; numeric: boolean }> = {
  name: { expr: 'lower(a.name)', desc: false, numeric: false },
  '-name': { expr: 'lower(a.name)', desc: true, numeric: false },
  members: { expr: 'a.member_count', desc: false, numeric: true },
  '-members': { expr: 'a.member_count', desc: true, numeric: true },
  updated: { expr: 'a.updated_at', desc: false, numeric: true },
  '-updated': { expr: 'a.updated_at', desc: true, numeric: true },
  created: { expr: 'a.created_at', desc: false, numeric: true },
  '-created': { expr: 'a.created_at', desc: true, numeric: true },
};

/**
 * A downstream audience `d` (joined to its configuration `c`) needs attention when its
 * configuration needs re-authorization, its last error is newer than its last success, X is
 * re-creating it, or X sized it and it is not targetable. Deleting ones never do. `no` is the
 * dialect's false (SQLite 0, PostgreSQL false).
 */
export function attentionSql(no: string): string {
  return `d.state <> 'deleting' AND (
    (c.state = 'needs_reauth' AND d.state <> 'detached')
    OR (d.last_error_at IS NOT NULL AND d.last_error_at > COALESCE(d.last_synced_at, 0) AND d.last_error_at > COALESCE(d.refreshed_at, 0))
    OR d.state = 'recreating'
    OR (d.targetable = ${no} AND d.sized_at IS NOT NULL AND d.processing_since IS NULL)
  )`;
}

/**
 * The WHERE and ORDER BY of a page, with `?` placeholders collected in `args` (PostgreSQL
 * renumbers them). `find` is the dialect's substring search (SQLite instr, PostgreSQL strpos).
 */
export function pageSql(query: AudienceQuery, no: string, find: 'instr' | 'strpos'): { where: string; order: string; args: unknown[]; keyExpr: string } {
  const key = SORT_KEYS[query.sort];
  const where: string[] = [];
  const args: unknown[] = [];
  if (query.q !== undefined && query.q !== '') {
    // The needle is folded by the same lower() as the column, so both dialects agree with themselves.
    where.push(`(${find}(lower(a.name), lower(?)) > 0 OR ${find}(lower(a.id), lower(?)) > 0)`);
    args.push(query.q, query.q);
  }
  const attention = `EXISTS (SELECT 1 FROM downstreams d JOIN configurations c ON c.id = d.configuration_id WHERE d.audience_id = a.id AND ${attentionSql(no)})`;
  if (query.state === 'attention') where.push(attention);
  if (query.state === 'ok') where.push(`NOT ${attention}`);
  if (query.after) {
    where.push(`(${key.expr}, a.id) ${key.desc ? '<' : '>'} (?, ?)`);
    args.push(query.after.key, query.after.id);
  }
  const dir = key.desc ? 'DESC' : 'ASC';
  return { where: where.length ? `WHERE ${where.join(' AND ')}` : '', order: `ORDER BY ${key.expr} ${dir}, a.id ${dir}`, args, keyExpr: key.expr };
}

/** Audiences needing attention, over the whole list (the header's count). */
export function attentionCountSql(no: string): string {
  return `SELECT COUNT(DISTINCT d.audience_id) AS n FROM downstreams d JOIN configurations c ON c.id = d.configuration_id
    JOIN audiences a ON a.id = d.audience_id WHERE ${attentionSql(no)}`;
}
