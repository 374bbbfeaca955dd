import { refilled, tokensHeldUntil, waitForToken } from '../rate-bucket.ts';
import type { Sql } from './db.ts';

/*
 * X's request rate, shared by every worker of every process through one row per (account,
 * family). A token bucket refilled continuously (the arithmetic: ../rate-bucket.ts): taking a token locks the row (SELECT … FOR
 * UPDATE), so ten workers asking at once are served one after another on the latest count, and
 * together never get more than the rate. With `burst` well under a minute's worth, no 60-second
 * window (X's, wherever it starts) sees more than perMinute + burst requests.
 *
 * Times come from the callers' clocks. updated_at only moves forward (GREATEST), so a process
 * whose clock lags slightly behind another's never refills the same interval twice: clock skew
 * between hosts can only make Tailor slower, never faster (keep hosts on NTP all the same).
 */

export async function takeRateToken(c: Sql, key: string, now: number, perMinute: number, burst: number): Promise<number> {
  // The row is locked until the commit, and every worker of every process taking a token from this
  // account waits for it: the commit does not wait for its WAL to reach the disk (synchronous_commit
  // off for this transaction alone, set with the read). A server crash can forget the last tokens
  // taken, so that up to a few more calls than the rate go out after it: Tailor's rate (1,400 a
  // minute, burst 25) stays under X's 1,500 by more than that, and X's own 429 is handled anyway.
  const lock = (): Promise<{ tokens: number; updated_at: number } | undefined> =>
    c
      .query<{ tokens: number; updated_at: number }>(
        "SELECT tokens, updated_at, set_config('synchronous_commit', 'off', true) FROM rate_buckets WHERE key = $1 FOR UPDATE",
        [key],
      )
      .then((r) => r.rows[0]);
  // The bucket exists but for the first call of an account and family: then made full, and locked.
  let row = await lock();
  if (row === undefined) {
    await c.query('INSERT INTO rate_buckets (key, tokens, updated_at) VALUES ($1, $2, $3) ON CONFLICT (key) DO NOTHING', [key, burst, now]);
    row = (await lock())!;
  }
  const tokens = refilled(row.tokens, row.updated_at, now, perMinute, burst);
  if (tokens < 1) return waitForToken(tokens, perMinute);
  await c.query('UPDATE rate_buckets SET tokens = $2, updated_at = GREATEST(updated_at, $3) WHERE key = $1', [key, tokens - 1, now]);
  return 0;
}

/** Sets the bucket so that it refills to one token exactly at `until` (X answered 429 with that reset time). */
export async function holdRate(c: Sql, key: string, until: number, now: number, perMinute: number): Promise<void> {
  const tokens = tokensHeldUntil(until, now, perMinute);
  await c.query(
    `INSERT INTO rate_buckets AS b (key, tokens, updated_at) VALUES ($1, $2, $3)
     ON CONFLICT (key) DO UPDATE SET tokens = LEAST(b.tokens, excluded.tokens), updated_at = GREATEST(b.updated_at, excluded.updated_at)`,
    [key, tokens, now],
  );
}
