import type Database from 'better-sqlite3';
import type { SentBatch } from '../port.ts';
import { hashBytes } from '../binary.ts';
import { cursorAfterSettle } from '../renewals.ts';
import { RELEASE, holds } from './lease.ts';
import { NEVER, type SliceEnd } from './slice-end.ts';

/**
 * The batch reached X. Guarded by the lease token (lease.ts); records what X now holds from
 * `sent` (not from the outbox rows, which a newer change may have rewritten), deletes the batch's
 * rows that still carry the token (a rewritten row lost it and stays pending, to be sent after),
 * and moves the counters. One row at a time: inside the caller's IMMEDIATE transaction nothing
 * else writes, so the order of the statements is the only order there is.
 *
 * Sliced: a slice settles the items (the sent changes, then the renewals) from `from` until
 * `deadline` (slice-end.ts) and commits with its own counters, so a settle of 60,000 rows
 * never holds the event loop for more than one slice (index.ts runs the slices, the loop free
 * between them). Each slice checks the lease first. Between two slices the settled part is
 * exact on its own (its X ledger rows confirmed or removed, its outbox rows gone, its counts
 * moved); the rest still carries the token and is still uncertain in the X ledger, as before
 * any settle, so a crash in between loses nothing: the lease expires, the rest is claimed again,
 * and the claim drops what X already holds. The last slice gives the lease back.
 *
 * Returns false without the lease, else the index of the next item to settle; the settle is
 * complete when that is the number of items.
 */
export function settleSent(
  db: Database.Database,
  downstreamId: number,
  token: string,
  result: SentBatch,
  now: number,
  from = 0,
  deadline: SliceEnd = NEVER,
): number | false {
  if (!holds(db, downstreamId, token)) return false;
  const rejected = new Set(result.rejectedHashes);
  const renewals = result.renewed ?? [];
  const total = result.sent.length + renewals.length;
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
  const settled = db.prepare('DELETE FROM outbox WHERE downstream_id = ? AND hash = ? AND claim_token = ?');
  let delta = 0;
  const confirmed = (hash: Buffer): void => {
    if (confirmUncertain.run(now, downstreamId, hash).changes > 0 || insert.run(downstreamId, hash, now).changes > 0) delta += 1;
    else touch.run(now, downstreamId, hash);
  };
  let i = from;
  while (i < total) {
    if (i < result.sent.length) {
      const c = result.sent[i]!;
      const hash = hashBytes(c.hash);
      settled.run(downstreamId, hash, token);
      if (!rejected.has(c.hash)) {
        if (c.op === 'add') {
          adds += 1;
          confirmed(hash);
        } else {
          removes += 1;
          remove.run(downstreamId, hash); // it was marked uncertain (and uncounted) when claimed
        }
      }
    } else {
      const hash = renewals[i - result.sent.length]!;
      if (!rejected.has(hash)) {
        renewed += 1;
        confirmed(hashBytes(hash));
      }
    }
    i += 1;
    if (deadline()) break;
  }
  db.prepare(
    'UPDATE downstreams SET members = members + ?, sent_adds = sent_adds + ?, sent_removes = sent_removes + ?, renewed = renewed + ? WHERE id = ?',
  ).run(delta, adds, removes, renewed, downstreamId);
  // The renewal clock (../renewals.ts), in every slice: a hash X confirmed now is never older than
  // the bound (NULL: none confirmed before), nor than a running pass's minimum (MIN of a NULL is NULL).
  if (adds + renewed > 0)
    db.prepare('UPDATE downstreams SET renew_bound = MIN(COALESCE(renew_bound, ?), ?), renew_pass_min = MIN(renew_pass_min, ?) WHERE id = ?').run(
      now,
      now,
      now,
      downstreamId,
    );
  if (i < total) return i;
  // The final slice: a resync's batch moves it on past its last hash, refused or not (cadence.ts).
  if (result.resyncCursor !== undefined)
    db.prepare('UPDATE downstreams SET resync_cursor = ?, resync_sent = resync_sent + ? WHERE id = ? AND resync_before IS NOT NULL').run(
      hashBytes(result.resyncCursor),
      renewals.length,
      downstreamId,
    );
  settleRenewalCursor(db, downstreamId, result, rejected);
  // Rows of the batch that `sent` did not list (none when the worker sends the whole claim).
  db.prepare('DELETE FROM outbox WHERE downstream_id = ? AND claim_token = ?').run(downstreamId, token);
  db.prepare(
    `UPDATE downstreams SET ${RELEASE}, rejected = rejected + ?, last_synced_at = ?, attempts = 0, next_attempt_at = 0,
       state = CASE WHEN state IN ('creating', 'recreating') THEN 'active' ELSE state END, updated_at = ?
     WHERE id = ?`,
  ).run(rejected.size, now, now, downstreamId);
  return total;
}

/**
 * The final slice of a renewal pass's batch (../renewals.ts) moves the pass's cursor past its
 * renewals, or to before the first one X refused. A resync's batch moves its own cursor (above).
 */
function settleRenewalCursor(db: Database.Database, downstreamId: number, result: SentBatch, rejected: ReadonlySet<string>): void {
  const renewals = result.renewed ?? [];
  if (result.resyncCursor !== undefined || renewals.length === 0) return;
  const cursor = cursorAfterSettle(renewals, rejected);
  if (cursor !== null) db.prepare('UPDATE downstreams SET renew_cursor = ? WHERE id = ? AND renew_pass_min IS NOT NULL').run(hashBytes(cursor), downstreamId);
}
