import type Database from 'better-sqlite3';
import { recordEvent } from './history.ts';

/**
 * The downstream audience was renamed on X to follow its audience; one UPDATE matched on the
 * lease token (inside the caller's IMMEDIATE transaction). A new name is marked on its chart.
 */
export function settleRenamed(db: Database.Database, downstreamId: number, token: string, xName: string, nameSuffix: number, now: number): boolean {
  const before = db.prepare('SELECT x_name FROM downstreams WHERE id = ? AND lease_token = ?').pluck().get(downstreamId, token) as string | null | undefined;
  if (before === undefined) return false;
  db.prepare(
    `UPDATE downstreams SET lease_token = NULL, lease_owner = NULL, lease_expires_at = NULL, x_name = ?, name_suffix = ?,
       attempts = 0, next_attempt_at = 0, updated_at = ? WHERE id = ? AND lease_token = ?`,
  ).run(xName, nameSuffix, now, downstreamId, token);
  if (before !== xName) recordEvent(db, downstreamId, 'renamed', xName, now);
  return true;
}
