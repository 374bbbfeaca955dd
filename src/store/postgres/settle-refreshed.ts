import type { XAudienceState } from '../port.ts';
import type { Sql } from './db.ts';
import { recordSample } from './history.ts';
import { RELEASE } from './lease.ts';

/**
 * X's view of the downstream audience (size, targetable) was read again. The token-guarded UPDATE
 * locks the downstream row, and the history sample is written under that lock in the caller's
 * transaction, so only the worker that still held the lease records one.
 */
export async function settleRefreshed(c: Sql, downstreamId: number, token: string, x: XAudienceState, now: number): Promise<boolean> {
  const r = await c.query(
    `UPDATE downstreams SET ${RELEASE}, audience_size = $3, targetable = $4, reasons_not_targetable = $5, refreshed_at = $6,
       attempts = 0, next_attempt_at = 0, updated_at = $6 WHERE id = $1 AND lease_token = $2`,
    [downstreamId, token, x.audienceSize, x.targetable, JSON.stringify(x.reasonsNotTargetable), now],
  );
  if ((r.rowCount ?? 0) === 0) return false;
  await recordSample(c, downstreamId, now);
  return true;
}
