import { hashBytesOrNull, hashHex } from '../binary.ts';
import type { Sql } from './db.ts';
import { recordError } from './history.ts';
import { RELEASE, holdLease, lockBatch } from './lease.ts';

/**
 * X refused some claimed changes item by item: drop those (counted, with the error shown), give the
 * lease back, and leave the batch's other changes pending for the next one. The batch's rows are
 * locked in hash order first (lockBatch), then changed by two statements that wait for nothing.
 */
export async function settleRejected(c: Sql, downstreamId: number, token: string, rejectedHashes: string[], error: string, now: number): Promise<boolean> {
  if (!(await holdLease(c, downstreamId, token))) return false;
  await lockBatch(c, downstreamId, token);
  // Not a hash at all (X's answer is outside input): no row holds it, so it drops nothing.
  const asBytes = rejectedHashes.map(hashBytesOrNull).filter((h): h is Buffer => h !== null);
  const dropped = await c.query<{ hash: Buffer }>(
    'DELETE FROM outbox WHERE downstream_id = $1 AND claim_token = $2 AND hash = ANY($3::bytea[]) RETURNING hash',
    [downstreamId, token, asBytes],
  );
  // A renewal X refused is not in the outbox, and its row is still confirmed (claimed changes are
  // not): it waits a whole renewal period rather than being refused again at once, over and over.
  const kept = new Set(dropped.rows.map((r) => hashHex(r.hash)));
  const renewals = asBytes.filter((h) => !kept.has(hashHex(h)));
  const postponed =
    renewals.length === 0
      ? 0
      : ((
          await c.query('UPDATE x_members SET confirmed_at = $3 WHERE downstream_id = $1 AND hash = ANY($2::bytea[]) AND confirmed', [
            downstreamId,
            renewals,
            now,
          ])
        ).rowCount ?? 0);
  await c.query('UPDATE outbox SET claim_token = NULL WHERE downstream_id = $1 AND claim_token = $2', [downstreamId, token]);
  await c.query(
    `UPDATE downstreams SET ${RELEASE}, rejected = rejected + $2, last_error = $3, last_error_at = $4, next_attempt_at = 0, updated_at = $4 WHERE id = $1`,
    [downstreamId, (dropped.rowCount ?? 0) + postponed, error, now],
  );
  await recordError(c, downstreamId, error, now);
  return true;
}
