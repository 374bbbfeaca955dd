/** The limits Tailor derives from X's facts (src/x/facts.ts) must stay inside them. */
import { describe, expect, it } from 'vitest';
import { MAX_NAME_TRIES, downstreamName } from '../../src/core/names.ts';
import { IDENTITY_TYPES } from '../../src/core/terms.ts';
import { loadConfig } from '../../src/config.ts';
import { burstFor } from '../../src/sync/rate.ts';
import { MAX_NAME_CHARS, MEMBERSHIP_DAYS, NAME_QUERY_MAX_CHARS, USERS_REQUESTS_PER_MINUTE } from '../../src/x/facts.ts';

describe("X's facts and the limits built on them", () => {
  it('every X name Tailor can give fits in the name prefix `q` can look up (2.3)', () => {
    const longest = Math.max(...IDENTITY_TYPES.map((t) => downstreamName('n'.repeat(MAX_NAME_CHARS), t, MAX_NAME_TRIES).length));
    expect(longest).toBeLessThanOrEqual(NAME_QUERY_MAX_CHARS);
  });

  it('the highest users rate TAILOR_X_REQUESTS_PER_MINUTE takes, burst included, stays within X’s window (3.4)', () => {
    const top = loadConfig({ TAILOR_X_REQUESTS_PER_MINUTE: String(USERS_REQUESTS_PER_MINUTE) }).xRequestsPerMinute;
    expect(top).toBe(USERS_REQUESTS_PER_MINUTE);
    expect(() => loadConfig({ TAILOR_X_REQUESTS_PER_MINUTE: String(USERS_REQUESTS_PER_MINUTE + 1) })).toThrow(/TAILOR_X_REQUESTS_PER_MINUTE/);
    const fallback = loadConfig({}).xRequestsPerMinute;
    expect(fallback + burstFor(fallback)).toBeLessThanOrEqual(USERS_REQUESTS_PER_MINUTE);
  });

  it('renewals come before X drops a member (3.2)', () => {
    expect(() => loadConfig({ TAILOR_RENEW_AFTER_DAYS: String(MEMBERSHIP_DAYS) })).not.toThrow();
    expect(() => loadConfig({ TAILOR_RENEW_AFTER_DAYS: String(MEMBERSHIP_DAYS + 1) })).toThrow(/TAILOR_RENEW_AFTER_DAYS/);
  });
});
