import type { QueueStore } from '../store/port.ts';
import { ACCOUNT_READS_PER_15_MINUTES, WRITES_PER_MINUTE as X_WRITES_PER_MINUTE } from '../x/facts.ts';

/**
 * Tailor's side of X's rate limits, shared through the store by every worker of every process.
 * Buckets are per ad account (one configuration, one token per account) and per endpoint family.
 */
export type RateFamily = 'users' | 'read' | 'write';

export interface RateLimits {
  /** `users` calls per minute; X allows 1500 (USERS_REQUESTS_PER_MINUTE), Tailor stays under it. */
  usersPerMinute: number;
}

/**
 * Reads and writes have limits that no source pins per endpoint (docs/reference/x-ads-api.md
 * 7.2): GETs with an account are probably "other account reads" (2,000 per 15 min), writes 450
 * per minute. Tailor keeps to nine tenths of the reads' average rate (120 a minute: 1,800 plus a
 * burst of 2 per 15 minutes) and two thirds of the writes' (300 a minute, burst 6), well under both.
 */
const READS_PER_MINUTE = Math.floor((ACCOUNT_READS_PER_15_MINUTES * 9) / (10 * 15));
const WRITES_PER_MINUTE = Math.floor((X_WRITES_PER_MINUTE * 2) / 3);
/**
 * A small burst: no 60-second window, wherever X starts it, can see more than a minute's rate plus
 * the burst, so Tailor's 1400 per minute plus 25 stays under X's 1500 (USERS_REQUESTS_PER_MINUTE).
 * Low rates get a burst of one fiftieth of the rate (at least 1), so the margin under X's limit
 * stays proportionate.
 */
export function burstFor(perMinute: number): number {
  return Math.max(1, Math.min(25, Math.floor(perMinute / 50)));
}

export class RateGate {
  constructor(
    private readonly store: Pick<QueueStore, 'takeRateToken' | 'holdRate'>,
    private readonly limits: RateLimits,
  ) {}

  private perMinute(family: RateFamily): number {
    return family === 'users' ? this.limits.usersPerMinute : family === 'read' ? READS_PER_MINUTE : WRITES_PER_MINUTE;
  }

  /** 0 when a call may go now, else how long to wait before asking again. */
  async take(accountId: string, family: RateFamily, now: number): Promise<number> {
    const perMinute = this.perMinute(family);
    return this.store.takeRateToken(`${accountId}:${family}`, now, perMinute, burstFor(perMinute));
  }

  /** X answered 429: nobody calls that family for the account before X's reset. */
  async hold(accountId: string, family: RateFamily, until: number, now: number): Promise<void> {
    await this.store.holdRate(`${accountId}:${family}`, until, now, this.perMinute(family));
  }
}
