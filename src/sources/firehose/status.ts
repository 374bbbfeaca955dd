/**
 * What the Firehose endpoint has seen, for `GET /api/v1/firehose`: messages by type and every
 * `suspend_subscription: true` it answered, with its reason. Kept in memory per process (the
 * suspensions also go to the log at warn level): a suspension is a signal for a person to act
 * on (add the configuration, then Resume in mParticle), not state to keep.
 *
 * Bounded: any sender holding the Firehose token can name any number of accounts, so at most
 * `MAX_SUSPENSIONS` accounts are kept (the least recently suspended one is forgotten first), an
 * account's warn line is written at most once per `LOG_EVERY_MS`, and all accounts together write
 * at most `MAX_LINES` lines per `LOG_EVERY_MS` (so cycling through more accounts than are kept
 * cannot flood the log either); what is not logged is counted into the account's next line.
 */
export type SuspendReason = 'unknown_account';

export interface Suspension {
  account_id: string;
  reason: SuspendReason;
  message: string;
  count: number;
  last_at: string;
}

export const MAX_SUSPENSIONS = 1_000;
export const LOG_EVERY_MS = 60_000;
export const MAX_LINES = 100;

interface Entry extends Suspension {
  /** When this account's warn line was last written, and the suspensions answered since. */
  loggedAt: number;
  unlogged: number;
}

export class FirehoseStatus {
  private readonly messages = new Map<string, number>();
  // A Map iterates in insertion order: re-inserting on each suspension keeps it least-recent first.
  private readonly suspensions = new Map<string, Entry>();
  private forgotten = 0;
  private windowStart = -Infinity;
  private linesInWindow = 0;

  constructor(private readonly limit = MAX_SUSPENSIONS) {}

  message(type: string): void {
    this.messages.set(type, (this.messages.get(type) ?? 0) + 1);
  }

  /**
   * Records one suspended answer. Returns the number of suspended answers for this account the
   * caller should report in a warn line now (this one included), or 0 when the line was written
   * less than a minute ago.
   */
  suspended(accountId: string, reason: SuspendReason, message: string, now: number): number {
    const key = `${reason}:${accountId}`;
    const s = this.suspensions.get(key) ?? { account_id: accountId, reason, message, count: 0, last_at: '', loggedAt: -Infinity, unlogged: 0 };
    s.count += 1;
    s.unlogged += 1;
    s.message = message;
    s.last_at = new Date(now).toISOString();
    this.suspensions.delete(key);
    this.suspensions.set(key, s);
    if (this.suspensions.size > this.limit) {
      this.suspensions.delete(this.suspensions.keys().next().value!);
      this.forgotten += 1;
    }
    if (now - s.loggedAt < LOG_EVERY_MS) return 0;
    if (now - this.windowStart >= LOG_EVERY_MS) {
      this.windowStart = now;
      this.linesInWindow = 0;
    }
    if (this.linesInWindow >= MAX_LINES) return 0;
    this.linesInWindow += 1;
    const report = s.unlogged;
    s.loggedAt = now;
    s.unlogged = 0;
    return report;
  }

  view(): { messages: Record<string, number>; suspensions: Suspension[]; suspensions_forgotten: number } {
    return {
      messages: Object.fromEntries(this.messages),
      // Most recent first: the ones a person is looking for.
      suspensions: [...this.suspensions.values()]
        .reverse()
        .map((s) => ({ account_id: s.account_id, reason: s.reason, message: s.message, count: s.count, last_at: s.last_at })),
      suspensions_forgotten: this.forgotten,
    };
  }
}
