import type Database from 'better-sqlite3';
import { refilled, tokensHeldUntil, waitForToken } from '../rate-bucket.ts';

/*
 * X's request rate, one row per (account, family), shared by every worker of every process on the
 * file. The arithmetic is ../rate-bucket.ts; the read and the write of a bucket happen inside the
 * caller's IMMEDIATE transaction, so two workers asking at once are served one after the other.
 */

/** A token bucket per key (../rate-bucket.ts), read and written inside the caller's IMMEDIATE transaction. */
export function takeRateToken(db: Database.Database, key: string, now: number, perMinute: number, burst: number): number {
  const row = db.prepare('SELECT tokens, updated_at FROM rate_buckets WHERE key = ?').get(key) as { tokens: number; updated_at: number } | undefined;
  const tokens = refilled(row?.tokens ?? burst, row?.updated_at ?? now, now, perMinute, burst);
  if (tokens >= 1) {
    db.prepare(
      'INSERT INTO rate_buckets (key, tokens, updated_at) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET tokens = excluded.tokens, updated_at = excluded.updated_at',
    ).run(key, tokens - 1, now);
    return 0;
  }
  return waitForToken(tokens, perMinute);
}

/** Sets the bucket so that it refills to one token exactly at `until`. */
export function holdRate(db: Database.Database, key: string, until: number, now: number, perMinute: number): void {
  const tokens = tokensHeldUntil(until, now, perMinute);
  db.prepare(
    'INSERT INTO rate_buckets (key, tokens, updated_at) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET tokens = MIN(rate_buckets.tokens, excluded.tokens), updated_at = excluded.updated_at',
  ).run(key, tokens, now);
}
