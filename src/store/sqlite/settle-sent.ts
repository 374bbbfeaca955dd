import type Database from 'better-sqlite3';
import type { SentBatch } from '../port.ts';
import { hashBytes } from '../binary.ts';
import { RELEASE, holds } from './lease.ts';

/**
 * The batch reached X. Guarded by the lease token (lease.ts); records what X now holds from
 * `sent` (not from the outbox rows, which a newer change may have rewritten), deletes the batch's
 * rows that still carry the token (a rewritten row lost it and stays pending, to be sent after),
 * and moves the counters. One row at a time: inside the caller's IMMEDIATE transaction nothing
 * else writes, so the order of the statements is the only order there is.
 */
export function settleSent(db: Database.Database, downstreamId: number, token: string, result: SentBatch, now: number): boolean {
  if (!holds(db, downstreamId, token)) return false;
  const rejected = new Set(result.rejectedHashes);
  let adds = 0;
  let removes = 0;
  let renewed = 0;
  // X acknowledged the batch: its adds and renewals are now confirmed present, as of now (X's
  // expiry runs from this Update), and its removes surely absent.
  // A claimed add's row is uncertain (claim.ts), so one statement settles it; a renewal's row is
  // confirmed already and only its time moves. Each newly confirmed hash is one more member.
  const confirmUncertain = db.prepare('UPDATE x_members SET confirmed = 1, confirmed_at = ? WHERE downstream_id = ? AND hash = ? AND confirmed = 0');
  const insert = db.prepare('INSERT OR IGNORE INTO x_members (downstream_id, hash, confirmed, confirmed_at) VALUES (?, ?, 1, ?)');
  const touch = db.prepare('UPDATE x_members SET confirmed_at = ? WHERE downstream_id = ? AND hash = ?');
  const remove = db.prepare('DELETE FROM x_members WHERE downstream_id = ? AND hash = ?');
  let delta = 0;
  const confirmed = (hex: string): void => {
    const hash = hashBytes(hex);
    if (confirmUncertain.run(now, downstreamId, hash).changes > 0 || insert.run(downstreamId, hash, now).changes > 0) delta += 1;
    else touch.run(now, downstreamId, hash);
  };
  for (const c of result.sent) {
    if (rejected.has(c.hash)) continue;
    if (c.op === 'add') {
      adds += 1;
      confirmed(c.hash);
    } else {
      removes += 1;
      remove.run(downstreamId, hashBytes(c.hash)); // it was marked uncertain (and uncounted) when claimed
    }
  }
  for (const hash of result.renewed ?? []) {
    if (rejected.has(hash)) continue;
    renewed += 1;
    confirmed(hash);
  }
  // A resync's batch moves it on past its last hash, refused or not (cadence.ts).
  if (result.resyncCursor !== undefined)
    db.prepare('UPDATE downstreams SET resync_cursor = ?, resync_sent = resync_sent + ? WHERE id = ? AND resync_before IS NOT NULL').run(
      hashBytes(result.resyncCursor),
      (result.renewed ?? []).length,
      downstreamId,
    );
  db.prepare('DELETE FROM outbox WHERE downstream_id = ? AND claim_token = ?').run(downstreamId, token);
  db.prepare(
    `UPDATE downstreams SET ${RELEASE}, members = members + ?, sent_adds = sent_adds + ?, sent_removes = sent_removes + ?,
       renewed = renewed + ?, rejected = rejected + ?, last_synced_at = ?, attempts = 0, next_attempt_at = 0,
       state = CASE WHEN state IN ('creating', 'recreating') THEN 'active' ELSE state END, updated_at = ?
     WHERE id = ?`,
  ).run(delta, adds, removes, renewed, rejected.size, now, now, downstreamId);
  return true;
}
