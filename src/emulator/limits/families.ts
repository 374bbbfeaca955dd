/**
 * Rate-limit families: each /12/ endpoint counts against one, per access token (docs/reference/x-ads-api.md 7.1:
 * "All Ads API rate limiting is tied to OAuth 1.0a user tokens"). Limits follow table 7.2 where
 * it is clear, and are generous where the doc marks the mapping UNCONFIRMED, so tests exercise
 * Tailor's limiter rather than trip over a guess.
 */

export type RateFamily = 'users' | 'audience_writes' | 'audience_reads' | 'account_reads' | 'global_reads' | 'total_count';

export const RATE_FAMILIES: readonly RateFamily[] = ['users', 'audience_writes', 'audience_reads', 'account_reads', 'global_reads', 'total_count'];

export interface RateLimit {
  limit: number;
  windowMs: number;
}

const MINUTE = 60_000;
const QUARTER_HOUR = 15 * MINUTE;

export function defaultRateLimits(users: RateLimit): Record<RateFamily, RateLimit> {
  return {
    // docs/reference/x-ads-api.md 3.4: 1500 per minute (configurable, for fast tests of Tailor's limiter).
    users: { ...users },
    // "Writes (POST/PUT/DELETE) 450 per 1 min"; whether audience CRUD counts is UNCONFIRMED.
    audience_writes: { limit: 450, windowMs: MINUTE },
    // Probably "Other account reads" (2000 / 15 min), UNCONFIRMED; Tailor polls audience sizes,
    // so the emulator grants the "core entity reads" budget instead.
    audience_reads: { limit: 10_000, windowMs: QUARTER_HOUR },
    // GET accounts/:id and authenticated_user_access: "Other account reads", raised likewise.
    account_reads: { limit: 10_000, windowMs: QUARTER_HOUR },
    // GET accounts (no :account_id): the table says "5 per 15 min (as written)", which looks like
    // a typo and would trip every login; the emulator allows 1000.
    global_reads: { limit: 1000, windowMs: QUARTER_HOUR },
    // Any request with with_total_count=true: 200 per 15 min (docs/reference/x-ads-api.md 2.3).
    total_count: { limit: 200, windowMs: QUARTER_HOUR },
  };
}
