import { describe, expect, it } from 'vitest';
import { refilled, tokensHeldUntil, waitForToken } from '../../src/store/rate-bucket.ts';

// 600 a minute is one token per 100 ms: easy numbers to check by hand.
describe('the rate bucket arithmetic both stores use', () => {
  it('refills continuously, never above the burst, never backwards', () => {
    expect(refilled(0, 1_000, 1_250, 600, 5)).toBe(2.5);
    expect(refilled(4, 0, 60_000, 600, 5)).toBe(5);
    // A caller whose clock lags gets no refill (and no negative one).
    expect(refilled(2, 1_000, 900, 600, 5)).toBe(2);
  });

  it('a bucket short of a token says how long to wait, rounded up to whole ms', () => {
    expect(waitForToken(0.5, 600)).toBe(50);
    expect(waitForToken(0.999, 600)).toBe(1);
    expect(waitForToken(-2, 600)).toBe(300);
  });

  it('a hold leaves exactly one token at the reset time', () => {
    const now = 10_000;
    const until = 13_000;
    const held = tokensHeldUntil(until, now, 600);
    expect(held).toBe(-29);
    expect(refilled(held, now, until, 600, 5)).toBeCloseTo(1, 9);
    expect(waitForToken(held, 600)).toBe(until - now);
    // A reset already past holds nothing back beyond the next token.
    expect(tokensHeldUntil(now - 1, now, 600)).toBe(1);
  });
});
