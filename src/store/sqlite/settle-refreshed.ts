import type Database from 'better-sqlite3';
import type { XAudienceState } from '../port.ts';
import { isProcessing } from '../states.ts';
import { recordSample } from './history.ts';

/**
 * X's view of the downstream audience (size, targetable) was read again. The token-guarded UPDATE
 * and the history sample run in the caller's IMMEDIATE transaction, so a sample is taken only by
 * the worker that still held the lease.
 *
 * While X processes (`PROCESSING`, no size) the last size and targetability it reported stay, and
 * `processing_since` marks since when; an answer with a size records it with the members on X at
 * that moment (`sized_members`), the membership the match rate divides by.
 */
export function settleRefreshed(db: Database.Database, downstreamId: number, token: string, x: XAudienceState, now: number): boolean {
  const processing = isProcessing(x) ? 1 : 0;
  // keep: X is processing and reported a size before, so that report stays what the status shows.
  const keep = '(? = 1 AND sized_at IS NOT NULL)';
  const settled =
    db
      .prepare(
        `UPDATE downstreams SET lease_token = NULL, lease_owner = NULL, lease_expires_at = NULL,
           audience_size = CASE WHEN ${keep} THEN audience_size ELSE ? END,
           targetable = CASE WHEN ${keep} THEN targetable ELSE ? END,
           reasons_not_targetable = CASE WHEN ${keep} THEN reasons_not_targetable ELSE ? END,
           processing_since = CASE WHEN ? = 1 THEN COALESCE(processing_since, ?) ELSE NULL END,
           sized_members = CASE WHEN ? = 1 THEN sized_members ELSE members END,
           sized_at = CASE WHEN ? = 1 THEN sized_at ELSE ? END,
           refreshed_at = ?, attempts = 0, next_attempt_at = 0, updated_at = ? WHERE id = ? AND lease_token = ?`,
      )
      .run(
        processing,
        x.audienceSize,
        processing,
        +x.targetable,
        processing,
        JSON.stringify(x.reasonsNotTargetable),
        processing,
        now,
        processing,
        processing,
        now,
        now,
        now,
        downstreamId,
        token,
      ).changes > 0;
  if (settled) recordSample(db, downstreamId, now);
  return settled;
}
