import type Database from 'better-sqlite3';
import type { XAudienceState } from '../port.ts';

/*
 * Creating a downstream audience on X, in two token-guarded steps: the name is recorded before
 * the request (so a crash after X created it is found by name, not created twice), then the
 * settle records X's id. Each is one UPDATE matched on the lease token, in its own transaction.
 */

export function recordCreateAttempt(db: Database.Database, downstreamId: number, token: string, name: string): boolean {
  return db.prepare('UPDATE downstreams SET create_attempt_name = ? WHERE id = ? AND lease_token = ?').run(name, downstreamId, token).changes > 0;
}

export function settleCreated(
  db: Database.Database,
  downstreamId: number,
  token: string,
  x: XAudienceState & { id: string; name: string; nameSuffix: number },
  now: number,
): boolean {
  // A re-created audience stays 'recreating' until its refill has been sent (settle-sent.ts).
  return (
    db
      .prepare(
        `UPDATE downstreams SET lease_token = NULL, lease_owner = NULL, lease_expires_at = NULL, x_audience_id = ?, x_name = ?, name_suffix = ?,
           state = CASE WHEN state = 'creating' THEN 'active' ELSE state END, audience_size = ?, targetable = ?,
           reasons_not_targetable = ?, refreshed_at = ?, attempts = 0, next_attempt_at = 0, updated_at = ?
         WHERE id = ? AND lease_token = ?`,
      )
      .run(x.id, x.name, x.nameSuffix, x.audienceSize, +x.targetable, JSON.stringify(x.reasonsNotTargetable), now, now, downstreamId, token).changes > 0
  );
}
