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
 * A downstream audience needs attention when its configuration needs re-authorization, its last
 * error is newer than its last success, X is re-creating it, or X sized it and it is not
 * targetable. Deleting ones never do. The rule has two halves, so that each is read through an
 * index rather than by looking at every downstream row: what the row says alone (the partial
 * index `downstreams_attention`, migration 0022, whose WHERE is this text: see
 * test/store/attention-index.test.ts), and the paused configurations' rows
 * (`downstreams_by_configuration`). `no` is the dialect's false (SQLite 0, PostgreSQL false).
 * services/status.ts needsAttention is the same rule for one row already read; test/store/attention-rule.test.ts
 * checks over random rows that the two agree.
 */
export function rowAttentionSql(no: string): string {
  return `state <> 'deleting' AND (
    (last_error_at IS NOT NULL AND last_error_at > COALESCE(last_synced_at, 0) AND last_error_at > COALESCE(refreshed_at, 0))
    OR state = 'recreating'
    OR (targetable = ${no} AND sized_at IS NOT NULL AND processing_since IS NULL))`;
}

/** The ids of the audiences needing attention: one row per audience, both halves of the rule. */
function attentionIdsSql(no: string): string {
  // CROSS JOIN: the configurations needing re-authorization (few, often none) are the outer loop.
  return `SELECT audience_id FROM downstreams WHERE ${rowAttentionSql(no)}
    UNION SELECT d.audience_id FROM configurations c CROSS JOIN downstreams d
      WHERE c.state = 'needs_reauth' AND d.configuration_id = c.id AND d.state NOT IN ('deleting', 'detached')`;
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
  if (query.state === 'attention') where.push(`a.id IN (${attentionIdsSql(no)})`);
  if (query.state === 'ok') where.push(`a.id NOT IN (${attentionIdsSql(no)})`);
  if (query.after) {
    where.push(`(${key.expr}, a.id) ${key.desc ? '<' : '>'} (?, ?)`);
    args.push(query.after.key, query.after.id);
  }
  const dir = key.desc ? 'DESC' : 'ASC';
  return { where: where.length ? `WHERE ${where.join(' AND ')}` : '', order: `ORDER BY ${key.expr} ${dir}, a.id ${dir}`, args, keyExpr: key.expr };
}

/** Audiences needing attention, over the whole list (the header's count). */
export function attentionCountSql(no: string): string {
  return `SELECT COUNT(*) AS n FROM audiences a WHERE a.id IN (${attentionIdsSql(no)})`;
}
