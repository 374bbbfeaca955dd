/**
 * What the Firehose endpoint has seen, for `GET /api/v1/firehose`: messages by type and every
 * `suspend_subscription: true` it answered, with its reason. Kept in memory per process (the
 * suspensions also go to the log at warn level): a suspension is a signal for a person to act
 * on (add the configuration, log in with X again, then Resume in mParticle), not state to keep.
 */
export type SuspendReason = 'unknown_account' | 'needs_reauth';

export interface Suspension {
  account_id: string;
  reason: SuspendReason;
  message: string;
  count: number;
  last_at: string;
}

export class FirehoseStatus {
  private readonly messages = new Map<string, number>();
  private readonly suspensions = new Map<string, Suspension>();

  message(type: string): void {
    this.messages.set(type, (this.messages.get(type) ?? 0) + 1);
  }

  suspended(accountId: string, reason: SuspendReason, message: string, now: number): void {
    const key = `${reason}:${accountId}`;
    const s = this.suspensions.get(key) ?? { account_id: accountId, reason, message, count: 0, last_at: '' };
    s.count += 1;
    s.message = message;
    s.last_at = new Date(now).toISOString();
    this.suspensions.set(key, s);
  }

  view(): { messages: Record<string, number>; suspensions: Suspension[] } {
    return { messages: Object.fromEntries(this.messages), suspensions: [...this.suspensions.values()].map((s) => ({ ...s })) };
  }
}
