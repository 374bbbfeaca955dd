import type { Sql } from './db.ts';
import { recordEvent } from './history.ts';
import { RELEASE } from './lease.ts';

/**
 * The downstream audience was renamed on X to follow its audience; one UPDATE matched on the
 * lease token, in the caller's transaction (the old name is read under the row's lock). A new
 * name is marked on its chart.
 */
export async function settleRenamed(c: Sql, downstreamId: number, token: string, xName: string, nameSuffix: number, now: number): Promise<boolean> {
  const r = await c.query<{ before: string | null }>(
    `UPDATE downstreams d SET ${RELEASE}, x_name = $3, name_suffix = $4, attempts = 0, next_attempt_at = 0, updated_at = $5
     FROM (SELECT id, x_name FROM downstreams WHERE id = $1 AND lease_token = $2 FOR UPDATE) old
     WHERE d.id = old.id RETURNING old.x_name AS before`,
    [downstreamId, token, xName, nameSuffix, now],
  );
  const row = r.rows[0];
  if (row === undefined) return false;
  if (row.before !== xName) await recordEvent(c, downstreamId, 'renamed', xName, now);
  return true;
}
