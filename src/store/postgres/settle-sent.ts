import type { SentBatch } from '../port.ts';
import { hashBytes } from '../binary.ts';
import { cursorAfterSettle } from '../renewals.ts';
import type { Sql } from './db.ts';
import { RELEASE, holdLease, lockBatch } from './lease.ts';

/**
 * The batch reached X. Guarded by the lease token (holdLease); records what X now holds from
 * `sent` (not from the outbox rows, which a newer change may have rewritten), deletes the batch's
 * rows that still carry the token (a rewritten row lost it and stays pending, to be sent after),
 * and moves the counters. The X ledger of a downstream audience is only ever written under its
 * row lock, so set-based statements here need no ordering.
 */
export async function settleSent(c: Sql, downstreamId: number, token: string, result: SentBatch, now: number): Promise<boolean> {
  if (!(await holdLease(c, downstreamId, token))) return false;
  const rejected = new Set(result.rejectedHashes);
  const adds: string[] = [];
  const removes: string[] = [];
  for (const change of result.sent) {
    if (rejected.has(change.hash)) continue;
    (change.op === 'add' ? adds : removes).push(change.hash);
  }
  // X acknowledged the batch: its adds and renewals are now confirmed present, as of now (X's
  // expiry runs from this Update), and its removes surely absent (they stopped counting when
  // claimed, see claim.ts). Each newly confirmed hash counts as a member; a renewal is one already.
  const renewed = (result.renewed ?? []).filter((h) => !rejected.has(h));
  const confirmed = [...adds, ...renewed].map(hashBytes);
  let delta = 0;
  if (confirmed.length > 0) {
    // One new row version per hash: a claimed add's uncertain row gets both columns at once, and the
    // last UPDATE (renewals) skips rows already stamped, so settled rows leave little for VACUUM.
    const wereUncertain = await c.query(
      'UPDATE x_members SET confirmed = true, confirmed_at = $3 WHERE downstream_id = $1 AND hash = ANY($2::bytea[]) AND NOT confirmed',
      [downstreamId, confirmed, now],
    );
    delta = wereUncertain.rowCount ?? 0;
    // Every hash was an uncertain row (a batch of claimed adds, no renewals: the usual case) and is
    // now confirmed and stamped; the hashes are distinct, so none is left to look up again. Else
    // the rest: a hash with no row is inserted confirmed, a renewal's row gets its new time.
    if (delta < confirmed.length) {
      const inserted = await c.query(
        'INSERT INTO x_members (downstream_id, hash, confirmed, confirmed_at) SELECT $1, unnest($2::bytea[]), true, $3 ON CONFLICT (downstream_id, hash) DO NOTHING',
        [downstreamId, confirmed, now],
      );
      delta += inserted.rowCount ?? 0;
      await c.query('UPDATE x_members SET confirmed_at = $3 WHERE downstream_id = $1 AND hash = ANY($2::bytea[]) AND confirmed_at IS DISTINCT FROM $3', [
        downstreamId,
        confirmed,
        now,
      ]);
    }
  }
  if (removes.length > 0) await c.query('DELETE FROM x_members WHERE downstream_id = $1 AND hash = ANY($2::bytea[])', [downstreamId, removes.map(hashBytes)]);
  // A resync's batch moves it on past its last hash, refused or not (cadence.ts).
  if (result.resyncCursor !== undefined)
    await c.query('UPDATE downstreams SET resync_cursor = $2, resync_sent = resync_sent + $3 WHERE id = $1 AND resync_before IS NOT NULL', [
      downstreamId,
      hashBytes(result.resyncCursor),
      (result.renewed ?? []).length,
    ]);
  const renewalCursor = result.resyncCursor === undefined ? cursorAfterSettle(result.renewed ?? [], rejected) : null;
  await lockBatch(c, downstreamId, token);
  await c.query('DELETE FROM outbox WHERE downstream_id = $1 AND claim_token = $2', [downstreamId, token]);
  // With the release, the renewal clock (../renewals.ts): a hash X confirmed now is never older than
  // the bound (NULL: none confirmed before), nor than a running pass's minimum ($8: something was
  // confirmed); a renewal pass's batch moves the pass's cursor past its renewals, or to before the
  // first one X refused ($9; a resync's batch moves its own cursor, above).
  await c.query(
    `UPDATE downstreams SET ${RELEASE}, members = members + $2, sent_adds = sent_adds + $3, sent_removes = sent_removes + $4,
       rejected = rejected + $5, renewed = renewed + $7, last_synced_at = $6, attempts = 0, next_attempt_at = 0,
       state = CASE WHEN state IN ('creating', 'recreating') THEN 'active' ELSE state END, updated_at = $6,
       renew_bound = CASE WHEN $8::boolean THEN LEAST(COALESCE(renew_bound, $6), $6) ELSE renew_bound END,
       renew_pass_min = CASE WHEN $8::boolean AND renew_pass_min IS NOT NULL THEN LEAST(renew_pass_min, $6) ELSE renew_pass_min END,
       renew_cursor = CASE WHEN $9::bytea IS NOT NULL AND renew_pass_min IS NOT NULL THEN $9::bytea ELSE renew_cursor END
     WHERE id = $1`,
    [
      downstreamId,
      delta,
      adds.length,
      removes.length,
      rejected.size,
      now,
      renewed.length,
      confirmed.length > 0,
      renewalCursor === null ? null : hashBytes(renewalCursor),
    ],
  );
  return true;
}
