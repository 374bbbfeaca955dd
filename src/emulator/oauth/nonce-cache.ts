/**
 * Nonces seen per consumer key within the timestamp window. A nonce is remembered until its
 * request's timestamp falls out of the window; after that the timestamp check rejects a replay.
 */
export class NonceCache {
  private readonly seen = new Map<string, number>();
  private insertsSinceSweep = 0;

  constructor(private readonly windowMs: number) {}

  /** Records the nonce; false when it was already used by this consumer key within the window. */
  remember(consumerKey: string, nonce: string, timestampMs: number, now: number): boolean {
    const key = `${consumerKey}\n${nonce}`;
    const until = this.seen.get(key);
    if (until !== undefined && until > now) return false;
    this.seen.set(key, Math.max(timestampMs, now) + this.windowMs);
    // Sweep now and then, so the map stays bounded by the traffic of one window.
    if (++this.insertsSinceSweep >= 10_000) {
      this.insertsSinceSweep = 0;
      for (const [k, expiry] of this.seen) if (expiry <= now) this.seen.delete(k);
    }
    return true;
  }
}
