import type Database from 'better-sqlite3';
import { recordError, recordEvent } from './history.ts';
import { RELEASE, holds } from './lease.ts';

/**
 * X no longer has the downstream audience: forget what it held, queue every member again, and
 * mark it 'recreating' so the next claim creates it anew. The lost X id is kept
 * (`previous_x_audience_id`) so the status can say that campaigns must be re-pointed. Inside the caller's IMMEDIATE
 * transaction, so an ingest cannot slip a change between the refill and the state change.
 */
export function settleNotFound(db: Database.Database, downstreamId: number, token: string, reason: string, now: number, nameSuffix?: number): boolean {
  if (!holds(db, downstreamId, token)) return false;
  const row = db.prepare('SELECT audience_id, identity_type, x_audience_id FROM downstreams WHERE id = ?').get(downstreamId) as {
    audience_id: string;
    identity_type: string;
    x_audience_id: string | null;
  };
  db.prepare('DELETE FROM x_members WHERE downstream_id = ?').run(downstreamId);
  // Every member the audience holds goes to X again, into the audience created in its place.
  db.prepare(
    `INSERT INTO outbox (downstream_id, hash, op, enqueued_at, claim_token)
     SELECT ?, hash, 'add', ?, NULL FROM hash_holders WHERE audience_id = ? AND identity_type = ?
     ON CONFLICT (downstream_id, hash) DO UPDATE SET op = 'add', claim_token = NULL`,
  ).run(downstreamId, now, row.audience_id, row.identity_type);
  db.prepare('UPDATE outbox SET claim_token = NULL WHERE downstream_id = ?').run(downstreamId);
  db.prepare(
    `UPDATE downstreams SET ${RELEASE}, state = 'recreating', x_audience_id = NULL,
       previous_x_audience_id = COALESCE(x_audience_id, previous_x_audience_id), recreated_at = CASE WHEN x_audience_id IS NULL THEN recreated_at ELSE ? END,
       processing_since = NULL, sized_at = NULL, sized_members = NULL, create_attempt_name = NULL, members = 0,
       name_suffix = COALESCE(?, name_suffix), audience_size = NULL, targetable = NULL, reasons_not_targetable = NULL, refreshed_at = NULL,
       last_error = ?, last_error_at = ?, attempts = 0, next_attempt_at = 0, updated_at = ?
     WHERE id = ?`,
  ).run(now, nameSuffix ?? null, reason, now, now, downstreamId);
  recordError(db, downstreamId, reason, now);
  if (row.x_audience_id !== null) recordEvent(db, downstreamId, 'recreated', row.x_audience_id, now);
  return true;
}
