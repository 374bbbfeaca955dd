import type Database from 'better-sqlite3';
import type { ReleaseOptions, SentBatch } from '../port.ts';
import { refilled, tokensHeldUntil, waitForToken } from '../rate-bucket.ts';
import { ERRORS_KEPT, RELEASE_LEASE as RELEASE, SAMPLES_KEPT } from '../states.ts';

/*
 * Settling on SQLite. Every statement is guarded by the lease token: a worker whose lease expired
 * (and was taken over) settles nothing. Callers run these inside one IMMEDIATE transaction.
 */

export function holds(db: Database.Database, downstreamId: number, token: string): boolean {
  return db.prepare('SELECT 1 FROM downstreams WHERE id = ? AND lease_token = ?').get(downstreamId, token) !== undefined;
}

export function settleSent(
  db: Database.Database,
  downstreamId: number,
  token: string,
  result: SentBatch,
  now: number,
): boolean {
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
  const confirmed = (hash: string): void => {
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
      remove.run(downstreamId, c.hash); // it was marked uncertain (and uncounted) when claimed
    }
  }
  for (const hash of result.renewed ?? []) {
    if (rejected.has(hash)) continue;
    renewed += 1;
    confirmed(hash);
  }
  db.prepare('DELETE FROM outbox WHERE downstream_id = ? AND claim_token = ?').run(downstreamId, token);
  db.prepare(
    `UPDATE downstreams SET ${RELEASE}, members = members + ?, sent_adds = sent_adds + ?, sent_removes = sent_removes + ?,
       renewed = renewed + ?, rejected = rejected + ?, last_synced_at = ?, attempts = 0, next_attempt_at = 0,
       state = CASE WHEN state IN ('creating', 'recreating') THEN 'active' ELSE state END, updated_at = ?
     WHERE id = ?`,
  ).run(delta, adds, removes, renewed, rejected.size, now, now, downstreamId);
  return true;
}

export function settleNotFound(db: Database.Database, downstreamId: number, token: string, reason: string, now: number, nameSuffix?: number): boolean {
  if (!holds(db, downstreamId, token)) return false;
  const row = db.prepare('SELECT audience_id, identity_type FROM downstreams WHERE id = ?').get(downstreamId) as { audience_id: string; identity_type: string };
  db.prepare('DELETE FROM x_members WHERE downstream_id = ?').run(downstreamId);
  // Every member the audience holds goes to X again, into the audience created in its place.
  db.prepare(
    `INSERT INTO outbox (downstream_id, hash, op, enqueued_at, claim_token)
     SELECT DISTINCT ?, hash, 'add', ?, NULL FROM members WHERE audience_id = ? AND identity_type = ?
     ON CONFLICT (downstream_id, hash) DO UPDATE SET op = 'add', claim_token = NULL`,
  ).run(downstreamId, now, row.audience_id, row.identity_type);
  db.prepare('UPDATE outbox SET claim_token = NULL WHERE downstream_id = ?').run(downstreamId);
  db.prepare(
    `UPDATE downstreams SET ${RELEASE}, state = 'recreating', x_audience_id = NULL, create_attempt_name = NULL, members = 0,
       name_suffix = COALESCE(?, name_suffix), audience_size = NULL, targetable = NULL, reasons_not_targetable = NULL, refreshed_at = NULL,
       last_error = ?, last_error_at = ?, attempts = 0, next_attempt_at = 0, updated_at = ?
     WHERE id = ?`,
  ).run(nameSuffix ?? null, reason, now, now, downstreamId);
  recordError(db, downstreamId, reason, now);
  return true;
}

export function release(
  db: Database.Database,
  downstreamId: number,
  token: string,
  opts: ReleaseOptions,
): boolean {
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

/** A token bucket per key (../rate-bucket.ts), read and written inside the caller's IMMEDIATE transaction. */
export function takeRateToken(db: Database.Database, key: string, now: number, perMinute: number, burst: number): number {
  const row = db.prepare('SELECT tokens, updated_at FROM rate_buckets WHERE key = ?').get(key) as { tokens: number; updated_at: number } | undefined;
  const tokens = refilled(row?.tokens ?? burst, row?.updated_at ?? now, now, perMinute, burst);
  if (tokens >= 1) {
    db.prepare('INSERT INTO rate_buckets (key, tokens, updated_at) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET tokens = excluded.tokens, updated_at = excluded.updated_at').run(
      key,
      tokens - 1,
      now,
    );
    return 0;
  }
  return waitForToken(tokens, perMinute);
}

export function settleRejected(db: Database.Database, downstreamId: number, token: string, rejectedHashes: string[], error: string, now: number): boolean {
  if (!holds(db, downstreamId, token)) return false;
  const drop = db.prepare('DELETE FROM outbox WHERE downstream_id = ? AND hash = ? AND claim_token = ?');
  let dropped = 0;
  // A renewal X refused is not in the outbox, and its row is still confirmed (claimed changes are
  // not): it waits a whole renewal period rather than being refused again at once, over and over.
  const postpone = db.prepare('UPDATE x_members SET confirmed_at = ? WHERE downstream_id = ? AND hash = ? AND confirmed = 1');
  for (const hash of rejectedHashes) {
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

/** Sets the bucket so that it refills to one token exactly at `until`. */
export function holdRate(db: Database.Database, key: string, until: number, now: number, perMinute: number): void {
  const tokens = tokensHeldUntil(until, now, perMinute);
  db.prepare('INSERT INTO rate_buckets (key, tokens, updated_at) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET tokens = MIN(rate_buckets.tokens, excluded.tokens), updated_at = excluded.updated_at').run(
    key,
    tokens,
    now,
  );
}

export function recordSample(db: Database.Database, downstreamId: number, now: number): void {
  db.prepare('INSERT OR REPLACE INTO samples (downstream_id, at, members, audience_size) SELECT id, ?, members, audience_size FROM downstreams WHERE id = ?').run(now, downstreamId);
  db.prepare('DELETE FROM samples WHERE downstream_id = ? AND at < (SELECT at FROM samples WHERE downstream_id = ? ORDER BY at DESC LIMIT 1 OFFSET ?)').run(
    downstreamId,
    downstreamId,
    SAMPLES_KEPT - 1,
  );
}

export function recordError(db: Database.Database, downstreamId: number, message: string, now: number): void {
  db.prepare('INSERT INTO downstream_errors (downstream_id, at, message) VALUES (?, ?, ?)').run(downstreamId, now, message);
  db.prepare('DELETE FROM downstream_errors WHERE downstream_id = ? AND id < (SELECT id FROM downstream_errors WHERE downstream_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?)').run(
    downstreamId,
    downstreamId,
    ERRORS_KEPT - 1,
  );
}
