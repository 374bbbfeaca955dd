import type Database from 'better-sqlite3';
import type { XAudienceState } from '../port.ts';
import { recordSample } from './history.ts';

/**
 * X's view of the downstream audience (size, targetable) was read again. The token-guarded UPDATE
 * and the history sample run in the caller's IMMEDIATE transaction, so a sample is taken only by
 * the worker that still held the lease.
 */
export function settleRefreshed(db: Database.Database, downstreamId: number, token: string, x: XAudienceState, now: number): boolean {
  const settled =
    db
      .prepare(
        `UPDATE downstreams SET lease_token = NULL, lease_owner = NULL, lease_expires_at = NULL, audience_size = ?, targetable = ?,
           reasons_not_targetable = ?, refreshed_at = ?, attempts = 0, next_attempt_at = 0, updated_at = ? WHERE id = ? AND lease_token = ?`,
      )
      .run(x.audienceSize, +x.targetable, JSON.stringify(x.reasonsNotTargetable), now, now, downstreamId, token).changes > 0;
  if (settled) recordSample(db, downstreamId, now);
  return settled;
}
