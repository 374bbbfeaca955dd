/**
 * HMAC-SHA1 signatures per RFC 5849 3.4, as X documents them (docs/reference/x-ads-api.md 9.2):
 *   base string = METHOD & pct(base URL) & pct(sorted "k=v" pairs joined by "&")
 *   key         = pct(consumer secret) & pct(token secret)
 * Only query, form-body and protocol parameters enter the base string; a JSON body never does.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { percentEncode } from './percent-encode.ts';

export type Pair = readonly [string, string];

/** Pairs are encoded first and then sorted by key, then value (RFC 5849 3.4.1.3.2). */
export function parameterString(pairs: readonly Pair[]): string {
  return pairs
    .map(([k, v]) => [percentEncode(k), percentEncode(v)] as const)
    .sort(([ka, va], [kb, vb]) => (ka < kb ? -1 : ka > kb ? 1 : va < vb ? -1 : va > vb ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
}

export function signatureBaseString(method: string, baseUrl: string, pairs: readonly Pair[]): string {
  return `${method.toUpperCase()}&${percentEncode(baseUrl)}&${percentEncode(parameterString(pairs))}`;
}

export function hmacSha1Signature(baseString: string, consumerSecret: string, tokenSecret: string): string {
  const key = `${percentEncode(consumerSecret)}&${percentEncode(tokenSecret)}`;
  return createHmac('sha1', key).update(baseString).digest('base64');
}

/** Constant-time comparison, so response timing leaks nothing about the expected signature. */
export function signaturesMatch(expected: string, given: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}
