import type { TargetingCampaign } from '../port.ts';
import type { Sql } from './db.ts';
import { recordError } from './history.ts';
import { RELEASE, holdLease } from './lease.ts';

/**
 * Active campaigns target the X audience about to be deleted: it stays (state `deleting`), the
 * campaigns are recorded for the status, and the lease goes back until `nextAttemptAt`, when X is
 * asked again (or sooner, once forced: forceDeletions). The downstream row is locked by holdLease.
 */
export async function holdDeletion(
  c: Sql,
  downstreamId: number,
  token: string,
  campaigns: TargetingCampaign[],
  now: number,
  nextAttemptAt: number,
): Promise<boolean> {
  if (!(await holdLease(c, downstreamId, token))) return false;
  const previous = await c.query<{ delete_blocked_by: TargetingCampaign[] | null }>('SELECT delete_blocked_by FROM downstreams WHERE id = $1', [downstreamId]);
  const blocked = JSON.stringify(campaigns);
  const message = `Not deleted on X: active campaigns target it (${campaigns.map((k) => k.campaignName ?? k.campaignId).join(', ')}); delete with force to proceed.`;
  await c.query(
    `UPDATE downstreams SET ${RELEASE}, delete_blocked_by = $2::jsonb, next_attempt_at = CASE WHEN delete_force THEN 0 ELSE $3::bigint END,
       last_error = $4, last_error_at = $5, updated_at = $5 WHERE id = $1`,
    [downstreamId, blocked, nextAttemptAt, message, now],
  );
  if (JSON.stringify(previous.rows[0]?.delete_blocked_by ?? null) !== blocked) await recordError(c, downstreamId, message, now);
  return true;
}
