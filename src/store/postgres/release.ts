import type { ReleaseOptions } from '../port.ts';
import type { Sql } from './db.ts';
import { recordError } from './history.ts';
import { RELEASE, holdLease, lockBatch } from './lease.ts';

/** Gives the lease back without settling (retry later, rate wait, re-authorization); the claimed changes stay pending. */
export async function release(c: Sql, downstreamId: number, token: string, opts: ReleaseOptions): Promise<boolean> {
  if (!(await holdLease(c, downstreamId, token))) return false;
  await lockBatch(c, downstreamId, token);
  await c.query('UPDATE outbox SET claim_token = NULL WHERE downstream_id = $1 AND claim_token = $2', [downstreamId, token]);
  await c.query(
    `UPDATE downstreams SET ${RELEASE}, next_attempt_at = $2, attempts = attempts + $3, refresh_after = COALESCE($6::bigint, refresh_after),
       last_error = COALESCE($4, last_error), last_error_at = CASE WHEN $4::text IS NULL THEN last_error_at ELSE $5 END, updated_at = $5
     WHERE id = $1`,
    [downstreamId, opts.nextAttemptAt, opts.countAttempt ? 1 : 0, opts.error, opts.now, opts.refreshAfter ?? null],
  );
  if (opts.error !== null) await recordError(c, downstreamId, opts.error, opts.now);
  return true;
}
