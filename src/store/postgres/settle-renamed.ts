import type { Reader } from './db.ts';
import { RELEASE } from './lease.ts';

/** The downstream audience was renamed on X to follow its audience; one UPDATE matched on the lease token. */
export async function settleRenamed(c: Reader, downstreamId: number, token: string, xName: string, nameSuffix: number, now: number): Promise<boolean> {
  const r = await c.query(
    `UPDATE downstreams SET ${RELEASE}, x_name = $3, name_suffix = $4, attempts = 0, next_attempt_at = 0, updated_at = $5
     WHERE id = $1 AND lease_token = $2`,
    [downstreamId, token, xName, nameSuffix, now],
  );
  return (r.rowCount ?? 0) > 0;
}
