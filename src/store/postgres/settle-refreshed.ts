import type { XAudienceState } from '../port.ts';
import { isProcessing } from '../states.ts';
import type { Sql } from './db.ts';
import { recordSample } from './history.ts';
import { RELEASE } from './lease.ts';

/**
 * X's view of the downstream audience (size, targetable) was read again. The token-guarded UPDATE
 * locks the downstream row, and the history sample is written under that lock in the caller's
 * transaction, so only the worker that still held the lease records one.
 *
 * While X processes (`PROCESSING`, no size) the last size and targetability it reported stay, and
 * `processing_since` marks since when; an answer with a size records it with the members on X at
 * that moment (`sized_members`), the membership the match rate divides by.
 */
export async function settleRefreshed(c: Sql, downstreamId: number, token: string, x: XAudienceState, now: number): Promise<boolean> {
  const r = await c.query(
    `UPDATE downstreams SET ${RELEASE},
       audience_size = CASE WHEN $7 AND sized_at IS NOT NULL THEN audience_size ELSE $3 END,
       targetable = CASE WHEN $7 AND sized_at IS NOT NULL THEN targetable ELSE $4 END,
       reasons_not_targetable = CASE WHEN $7 AND sized_at IS NOT NULL THEN reasons_not_targetable ELSE $5 END,
       processing_since = CASE WHEN $7 THEN COALESCE(processing_since, $6) ELSE NULL END,
       sized_members = CASE WHEN $7 THEN sized_members ELSE members END,
       sized_at = CASE WHEN $7 THEN sized_at ELSE $6 END,
       refreshed_at = $6, attempts = 0, next_attempt_at = 0, updated_at = $6 WHERE id = $1 AND lease_token = $2`,
    [downstreamId, token, x.audienceSize, x.targetable, JSON.stringify(x.reasonsNotTargetable), now, isProcessing(x)],
  );
  if ((r.rowCount ?? 0) === 0) return false;
  await recordSample(c, downstreamId, now);
  return true;
}
