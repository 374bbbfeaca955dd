/**
 * Webhook signatures. Each POST carries
 *
 *   X-Tailor-Timestamp: <unix seconds when this attempt was sent>
 *   X-Tailor-Signature: sha256=<hex HMAC-SHA256, keyed with TAILOR_WEBHOOK_SECRET, of "<timestamp>.<body>">
 *
 * The signed string is the timestamp's decimal digits, one ".", then the raw body bytes as sent.
 * A receiver recomputes it over the body it read (before parsing), compares in constant time, and
 * refuses a timestamp more than a few minutes from its clock (`verifySignature`'s tolerance), so a
 * captured request cannot be replayed later. Retries are signed afresh with their own timestamp;
 * the event's `id` stays the same, for de-duplication.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'x-tailor-signature';
export const TIMESTAMP_HEADER = 'x-tailor-timestamp';
export const DEFAULT_TOLERANCE_S = 300;

export function signature(secret: string, timestamp: number, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`, 'utf8').digest('hex')}`;
}

/** The check a receiver makes (exported for tests and as the reference for receivers). */
export function verifySignature(
  secret: string,
  headers: { signature?: string; timestamp?: string },
  body: string,
  nowS: number,
  toleranceS = DEFAULT_TOLERANCE_S,
): boolean {
  if (headers.signature === undefined || headers.timestamp === undefined || !/^\d{1,12}$/.test(headers.timestamp)) return false;
  const t = Number(headers.timestamp);
  if (Math.abs(nowS - t) > toleranceS) return false;
  const want = Buffer.from(signature(secret, t, body));
  const got = Buffer.from(headers.signature);
  return want.length === got.length && timingSafeEqual(want, got);
}
