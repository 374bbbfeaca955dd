import type Database from 'better-sqlite3';
import type { TargetingCampaign } from '../port.ts';
import { recordError } from './history.ts';
import { RELEASE, holds } from './lease.ts';

/**
 * Active campaigns target the X audience about to be deleted: it stays (state `deleting`), the
 * campaigns are recorded for the status, and the lease goes back until `nextAttemptAt`, when X is
 * asked again (or sooner, once forced: forceDeletions). Guarded by the lease token, inside the
 * caller's IMMEDIATE transaction.
 */
export function holdDeletion(
  db: Database.Database,
  downstreamId: number,
  token: string,
  campaigns: TargetingCampaign[],
  now: number,
  nextAttemptAt: number,
): boolean {
  if (!holds(db, downstreamId, token)) return false;
  const previous = db.prepare('SELECT delete_blocked_by FROM downstreams WHERE id = ?').pluck().get(downstreamId) as string | null;
  const blocked = JSON.stringify(campaigns);
  const message = `Not deleted on X: active campaigns target it (${campaigns.map((c) => c.campaignName ?? c.campaignId).join(', ')}); delete with force to proceed.`;
  db.prepare(
    `UPDATE downstreams SET ${RELEASE}, delete_blocked_by = ?, next_attempt_at = CASE WHEN delete_force = 1 THEN 0 ELSE ? END,
       last_error = ?, last_error_at = ?, updated_at = ? WHERE id = ?`,
  ).run(blocked, nextAttemptAt, message, now, now, downstreamId);
  if (previous !== blocked) recordError(db, downstreamId, message, now);
  return true;
}
