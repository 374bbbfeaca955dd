import type Database from 'better-sqlite3';
import { hashBytesOrNull } from '../binary.ts';
import { recordError } from './history.ts';
import { RELEASE, holds } from './lease.ts';

/**
 * X refused some hashes of the batch: they are dropped (counted as rejected), the rest of the
 * batch is given back to be sent again. Guarded by the lease token, inside the caller's IMMEDIATE
 * transaction.
 */
export function settleRejected(db: Database.Database, downstreamId: number, token: string, rejectedHashes: string[], error: string, now: number): boolean {
  if (!holds(db, downstreamId, token)) return false;
  const drop = db.prepare('DELETE FROM outbox WHERE downstream_id = ? AND hash = ? AND claim_token = ?');
  let dropped = 0;
  // A renewal X refused is not in the outbox, and its row is still confirmed (claimed changes are
  // not): it waits a whole renewal period rather than being refused again at once, over and over.
  const postpone = db.prepare('UPDATE x_members SET confirmed_at = ? WHERE downstream_id = ? AND hash = ? AND confirmed = 1');
  for (const hex of rejectedHashes) {
    const hash = hashBytesOrNull(hex);
    if (hash === null) continue; // not a hash Tailor sent: no row holds it
    const n = drop.run(downstreamId, hash, token).changes;
    dropped += n + (n === 0 ? postpone.run(now, downstreamId, hash).changes : 0);
  }
  db.prepare('UPDATE outbox SET claim_token = NULL WHERE downstream_id = ? AND claim_token = ?').run(downstreamId, token);
  db.prepare(
    `UPDATE downstreams SET ${RELEASE}, rejected = rejected + ?, last_error = ?, last_error_at = ?, next_attempt_at = 0, updated_at = ? WHERE id = ?`,
  ).run(dropped, error, now, now, downstreamId);
  recordError(db, downstreamId, error, now);
  return true;
}
