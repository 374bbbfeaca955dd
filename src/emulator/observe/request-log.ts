/**
 * The recent X calls (/12/ and /oauth/), newest last, in a ring buffer: tests read it to check
 * how Tailor packed its batches and that no call came before a 429's reset.
 */

export interface LoggedCall {
  seq: number;
  /** Arrival time, epoch ms (seq follows answer order). */
  at: number;
  method: string;
  path: string;
  /** Route name as in the stats ("POST custom_audience_users"); "unknown" for unmatched routes. */
  route: string;
  /** 0 when the connection was dropped without an answer. */
  status: number;
  account_id: string | null;
  audience_id: string | null;
  /** Users endpoint only: operation objects and user objects in the body. */
  operations: number | null;
  users: number | null;
  /** Request body bytes. */
  bytes: number;
  /** The oauth_token the call was signed with, if any. */
  token: string | null;
  /** x-rate-limit-reset sent with the answer (epoch seconds), if any. */
  rate_limit_reset: number | null;
  /** The injected fault, if one hit: "rate_limit", "error", "drop_before", "drop_after", "latency". */
  fault: string | null;
  /** Why authentication failed, on 401s. */
  auth_failure: string | null;
}

/** Ten thousand calls cover a long test at full users-endpoint speed (1500/min) for minutes. */
export const REQUEST_LOG_CAPACITY = 10_000;

export class RequestLog {
  private readonly ring: LoggedCall[] = [];
  private nextSeq = 1;

  /**
   * Logs an answered call. The sequence number is given at answer time, so polling with
   * `since` never misses a slow call that arrived earlier but finished later.
   */
  record(call: Omit<LoggedCall, 'seq'>): LoggedCall {
    const logged = { seq: this.nextSeq++, ...call };
    this.ring.push(logged);
    if (this.ring.length > REQUEST_LOG_CAPACITY) this.ring.shift();
    return logged;
  }

  /** Calls with seq > since, in seq order. */
  since(since: number, limit: number): LoggedCall[] {
    const out: LoggedCall[] = [];
    for (const c of this.ring) {
      if (out.length >= limit) break;
      if (c.seq > since) out.push(c);
    }
    return out;
  }

  lastSeq(): number {
    return this.nextSeq - 1;
  }
}
