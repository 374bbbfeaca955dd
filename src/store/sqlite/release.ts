import type Database from 'better-sqlite3';
import type { ReleaseOptions } from '../port.ts';
import { recordError } from './history.ts';
import { RELEASE, holds } from './lease.ts';

/** Gives the lease back without settling (retry later, rate wait, re-authorization); the claimed changes stay pending. */
export function release(db: Database.Database, downstreamId: number, token: string, opts: ReleaseOptions): boolean {
  if (!holds(db, downstreamId, token)) return false;
  db.prepare('UPDATE outbox SET claim_token = NULL WHERE downstream_id = ? AND claim_token = ?').run(downstreamId, token);
  db.prepare(
    `UPDATE downstreams SET ${RELEASE}, next_attempt_at = ?, attempts = attempts + ?, refresh_after = COALESCE(?, refresh_after),
       last_error = COALESCE(?, last_error), last_error_at = CASE WHEN ? IS NULL THEN last_error_at ELSE ? END, updated_at = ?
     WHERE id = ?`,
  ).run(opts.nextAttemptAt, opts.countAttempt ? 1 : 0, opts.refreshAfter ?? null, opts.error, opts.error, opts.now, opts.now, downstreamId);
  if (opts.error !== null) recordError(db, downstreamId, opts.error, opts.now);
  return true;
}
