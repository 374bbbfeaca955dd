import type { Sql } from './db.ts';
import { recordError, recordEvent } from './history.ts';
import { RELEASE, holdLease } from './lease.ts';
import { lockAudience } from './locks.ts';

/**
 * X lost the audience (deleted by hand): forget its id and X ledger, queue every current member
 * again (the lost id stays as `previous_x_audience_id`, for the status). The refill reads the whole audience ledger, so it runs under the audience's EXCLUSIVE
 * lock (locks.ts), taken before the downstream row as the lock order says: no ingest can be
 * between deciding a transition and writing it while the refill overwrites the outbox.
 */
export async function settleNotFound(c: Sql, downstreamId: number, token: string, reason: string, now: number, nameSuffix?: number): Promise<boolean> {
  // audience_id never changes for a row, so reading it before the locks is safe.
  const owner = await c.query<{ audience_id: string }>('SELECT audience_id FROM downstreams WHERE id = $1', [downstreamId]);
  const audienceId = owner.rows[0]?.audience_id;
  if (audienceId === undefined) return false;
  await lockAudience(c, audienceId, 'exclusive');
  const held = await holdLease(c, downstreamId, token);
  if (!held) return false;
  // The row is locked (holdLease): its X id is the one X lost.
  const lost =
    (await c.query<{ x_audience_id: string | null }>('SELECT x_audience_id FROM downstreams WHERE id = $1', [downstreamId])).rows[0]?.x_audience_id ?? null;
  await c.query('DELETE FROM x_members WHERE downstream_id = $1', [downstreamId]);
  await c.query(
    `INSERT INTO outbox (downstream_id, hash, op, enqueued_at, claim_token)
     SELECT $1, hash, 'add', $2, NULL FROM hash_holders WHERE audience_id = $3 AND identity_type = $4 ORDER BY hash
     ON CONFLICT (downstream_id, hash) DO UPDATE SET op = 'add', claim_token = NULL`,
    [downstreamId, now, held.audience_id, held.identity_type],
  );
  await c.query('UPDATE outbox SET claim_token = NULL WHERE downstream_id = $1 AND claim_token IS NOT NULL', [downstreamId]);
  await c.query(
    `UPDATE downstreams SET ${RELEASE}, state = 'recreating', x_audience_id = NULL,
       previous_x_audience_id = COALESCE(x_audience_id, previous_x_audience_id), recreated_at = CASE WHEN x_audience_id IS NULL THEN recreated_at ELSE $3 END,
       processing_since = NULL, sized_at = NULL, sized_members = NULL, create_attempt_name = NULL, members = 0,
       name_suffix = COALESCE($4::integer, name_suffix), audience_size = NULL, targetable = NULL, reasons_not_targetable = NULL, refreshed_at = NULL,
       last_error = $2, last_error_at = $3, attempts = 0, next_attempt_at = 0, updated_at = $3
     WHERE id = $1`,
    [downstreamId, reason, now, nameSuffix ?? null],
  );
  await recordError(c, downstreamId, reason, now);
  if (lost !== null) await recordEvent(c, downstreamId, 'recreated', lost, now);
  return true;
}
