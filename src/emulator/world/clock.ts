/**
 * X's own time: what memberships (effective_at, expires_at and the 13-month default), sizing and
 * the audiences' timestamps are measured against. It is the wall clock plus an offset that only
 * grows (POST /_emulator/clock), so a test can let a year pass on X in a moment.
 *
 * What a client compares with its own clock stays on the wall clock: OAuth timestamps, rate-limit
 * windows and the epoch seconds of x-rate-limit-reset, and the request log. A client and X agree
 * on the time in real life; moving only X's memberships forward is "a year has passed", while
 * moving those too would tell the client to wait a year for a rate limit.
 */
export class Clock {
  private offset = 0;

  now(): number {
    return Date.now() + this.offset;
  }

  get offsetMs(): number {
    return this.offset;
  }

  /** Moves X's time forward; never back, so no window X already closed opens again. */
  advance(ms: number): void {
    if (!Number.isSafeInteger(ms) || ms < 0) throw new RangeError('advance_ms must be a whole number of milliseconds >= 0');
    this.offset += ms;
  }
}
