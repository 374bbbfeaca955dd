import type { XAudienceState } from '../port.ts';
import type { Reader } from './db.ts';
import { RELEASE } from './lease.ts';

/*
 * Creating a downstream audience on X, in two token-guarded steps: the name is recorded before
 * the request (so a crash after X created it is found by name, not created twice), then the
 * settle records X's id. Each is one UPDATE matched on the lease token: the row lock it takes is
 * all the exclusion needed, so neither needs a transaction.
 */

export async function recordCreateAttempt(c: Reader, downstreamId: number, token: string, name: string): Promise<boolean> {
  const r = await c.query('UPDATE downstreams SET create_attempt_name = $3 WHERE id = $1 AND lease_token = $2', [downstreamId, token, name]);
  return (r.rowCount ?? 0) > 0;
}

export async function settleCreated(
  c: Reader,
  downstreamId: number,
  token: string,
  x: XAudienceState & { id: string; name: string; nameSuffix: number },
  now: number,
): Promise<boolean> {
  // A re-created audience stays 'recreating' until its refill has been sent (settle-sent.ts).
  const r = await c.query(
    `UPDATE downstreams SET ${RELEASE}, x_audience_id = $3, x_name = $4, name_suffix = $5,
       state = CASE WHEN state = 'creating' THEN 'active' ELSE state END, audience_size = $6, targetable = $7,
       reasons_not_targetable = $8, refreshed_at = $9, attempts = 0, next_attempt_at = 0, updated_at = $9
     WHERE id = $1 AND lease_token = $2`,
    [downstreamId, token, x.id, x.name, x.nameSuffix, x.audienceSize, x.targetable, JSON.stringify(x.reasonsNotTargetable), now],
  );
  return (r.rowCount ?? 0) > 0;
}
