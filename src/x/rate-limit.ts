/**
 * Reads X's rate-limit headers (docs/reference/x-ads-api.md 7.1). Account-level headers come only on GETs and take
 * precedence when present; otherwise the user token's headers apply.
 */
import { epochSecondsHeader, getHeader, type HeaderSource } from './errors.ts';
import { RATE_LIMIT_HEADERS } from './facts.ts';
import type { RateLimitInfo } from './types.ts';

export function readRateLimit(headers: HeaderSource): RateLimitInfo | undefined {
  return read(headers, RATE_LIMIT_HEADERS.account, 'account') ?? read(headers, RATE_LIMIT_HEADERS.token, 'token');
}

function read(headers: HeaderSource, prefix: string, scope: 'account' | 'token'): RateLimitInfo | undefined {
  const limit = intHeader(headers, `${prefix}-limit`);
  const remaining = intHeader(headers, `${prefix}-remaining`);
  const resetAt = epochSecondsHeader(headers, `${prefix}-reset`);
  if (limit === undefined || remaining === undefined || resetAt === undefined) return undefined;
  return { limit, remaining, resetAt, scope };
}

function intHeader(headers: HeaderSource, name: string): number | undefined {
  const raw = getHeader(headers, name)?.trim();
  return raw && /^\d+$/.test(raw) ? Number(raw) : undefined;
}
