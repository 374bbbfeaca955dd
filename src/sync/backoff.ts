/**
 * Exponential backoff with full jitter for transient failures (5xx, timeouts, resets). The first
 * retry comes within a second; the cap of five minutes follows X's guidance to back off to
 * minutes (docs/reference/x-ads-api.md 3.8) while still retrying a long outage several times an hour.
 */
export const BACKOFF_BASE_MS = 1_000;
export const BACKOFF_CAP_MS = 300_000;

export function backoffMs(attempts: number, random: () => number = Math.random): number {
  const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** Math.max(0, attempts));
  // Half fixed, half random: spreads retries of many workers without ever retrying at once.
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
