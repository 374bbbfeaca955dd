/**
 * Fixed windows per (access token, family), the model X's headers describe: a window opens at the
 * first request after the previous one closed, allows `limit` requests, and resets at its end
 * (x-rate-limit-reset, epoch seconds rounded UP, so a client that waits until the header's second
 * always lands in a new window).
 *
 * Every authenticated request counts, also those answered 429, so `maxInAnyWindow` says whether
 * a client ever asked for more than the limit allowed.
 */
import { RATE_FAMILIES, type RateFamily, type RateLimit } from './families.ts';

export interface RateDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Epoch seconds. */
  resetS: number;
}

interface Window {
  startedAt: number;
  endsAt: number;
  count: number;
}

export class RateLimiter {
  private readonly windows = new Map<string, Window>();
  private readonly maxByToken = new Map<RateFamily, Map<string, number>>();

  constructor(private readonly limits: Record<RateFamily, RateLimit>) {}

  hit(token: string, family: RateFamily, now: number): RateDecision {
    const { limit, windowMs } = this.limits[family];
    const key = `${family}\n${token}`;
    let w = this.windows.get(key);
    if (w === undefined || now >= w.endsAt) {
      w = { startedAt: now, endsAt: now + windowMs, count: 0 };
      this.windows.set(key, w);
    }
    w.count++;
    const maxes = this.maxByToken.get(family) ?? new Map<string, number>();
    maxes.set(token, Math.max(maxes.get(token) ?? 0, w.count));
    this.maxByToken.set(family, maxes);
    return {
      allowed: w.count <= limit,
      limit,
      remaining: Math.max(0, limit - w.count),
      resetS: Math.ceil(w.endsAt / 1000),
    };
  }

  limitOf(family: RateFamily): RateLimit {
    return { ...this.limits[family] };
  }

  /** A new limit starts fresh windows for that family, so a test's tiny window applies at once. */
  setLimit(family: RateFamily, limit: RateLimit): void {
    this.limits[family] = { ...limit };
    for (const key of this.windows.keys()) if (key.startsWith(`${family}\n`)) this.windows.delete(key);
  }

  /** The most requests any token made within one window of this family. */
  maxInAnyWindow(family: RateFamily): Record<string, number> {
    return Object.fromEntries(this.maxByToken.get(family) ?? []);
  }

  allLimits(): Record<RateFamily, RateLimit> {
    return Object.fromEntries(RATE_FAMILIES.map((f) => [f, this.limitOf(f)])) as Record<RateFamily, RateLimit>;
  }

  resetStats(): void {
    this.maxByToken.clear();
  }
}
