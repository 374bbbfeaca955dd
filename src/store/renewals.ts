import type { ClaimOptions } from './port.ts';

/**
 * When a claim may run its renewal step (both dialects' claim.ts; PostgreSQL's pick repeats it in
 * SQL). Renewals are spread over time: a downstream audience runs at most one renewal step per
 * flush interval, and a step takes at most what is left of one batch (one request). An audience
 * whose ten million members were all confirmed on one day therefore comes due as about one request
 * per flush interval (some 160 over half an hour at the defaults), not as a burst of 160 requests
 * that would hold up every other audience's adds and removes behind X's 1,500 requests a minute.
 * X's 13-month expiry leaves two months after the default 330 days, far more than any backlog needs.
 */
export function renewalStepAllowed(
  renewClaimedAt: number,
  opts: Pick<ClaimOptions, 'now' | 'flushIntervalMs' | 'renewAfterMs'>,
): opts is typeof opts & { renewAfterMs: number } {
  return opts.renewAfterMs !== undefined && renewClaimedAt <= opts.now - opts.flushIntervalMs;
}
