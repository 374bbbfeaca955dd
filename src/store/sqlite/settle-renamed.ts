import type Database from 'better-sqlite3';

/** The downstream audience was renamed on X to follow its audience; one UPDATE matched on the lease token. */
export function settleRenamed(db: Database.Database, downstreamId: number, token: string, xName: string, nameSuffix: number, now: number): boolean {
  return (
    db
      .prepare(
        `UPDATE downstreams SET lease_token = NULL, lease_owner = NULL, lease_expires_at = NULL, x_name = ?, name_suffix = ?,
           attempts = 0, next_attempt_at = 0, updated_at = ? WHERE id = ? AND lease_token = ?`,
      )
      .run(xName, nameSuffix, now, downstreamId, token).changes > 0
  );
}
