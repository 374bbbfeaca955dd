/**
 * The token bucket both stores keep per (account, endpoint family) in `rate_buckets`, as pure
 * arithmetic: each adapter reads the row under its own lock, calls these, and writes the result
 * (sqlite/rate.ts, postgres/rate.ts). The bucket refills continuously at `perMinute` up to
 * `burst`; with `burst` well under a minute's worth, no 60-second window (X's, wherever it starts)
 * sees more than perMinute + burst requests.
 */

const perMs = (perMinute: number): number => perMinute / 60_000;

/** The tokens a bucket holds at `now`, from what it held at `updatedAt`. */
export function refilled(tokens: number, updatedAt: number, now: number, perMinute: number, burst: number): number {
  return Math.min(burst, tokens + Math.max(0, now - updatedAt) * perMs(perMinute));
}

/** How long until a bucket holding `tokens` (less than one) holds one, in whole ms. */
export function waitForToken(tokens: number, perMinute: number): number {
  return Math.ceil((1 - tokens) / perMs(perMinute));
}

/** The tokens that make a bucket refill to exactly one at `until` (X answered 429 with that reset time). */
export function tokensHeldUntil(until: number, now: number, perMinute: number): number {
  return 1 - Math.max(0, until - now) * perMs(perMinute);
}
