import type { ClaimOptions } from './port.ts';
import { renewalStepAllowed } from './renewals.ts';

/*
 * The send cadence of a connection and the resyncs, for both dialects' claim.ts (docs/architecture.md,
 * "Cadence and resyncs"). With a cadence (`send_interval_ms`), a downstream audience's changes are
 * claimed only once `next_send_at` has come; the send that drains its outbox then sets the next
 * one an interval later. A batch that leaves changes behind (it was full) keeps the window open, so
 * a backlog goes out at once, packed and rate-limited like any other, and the next window starts
 * after it: X sees one add and one remove update per audience per interval, however big.
 */

export interface CadenceRow {
  send_interval_ms: number | null;
  next_send_at: number;
}

/** Whether the changes of this downstream audience may be claimed now. */
export function cadenceOpen(row: CadenceRow, now: number): boolean {
  return row.send_interval_ms === null || row.next_send_at <= now;
}

/** After a send claimed `claimed` of at most `max` changes: the next send's earliest time, or null to leave it. */
export function nextSendAfter(row: CadenceRow, now: number, claimed: number, max: number): number | null {
  if (row.send_interval_ms === null || claimed >= max) return null;
  return now + Number(row.send_interval_ms);
}

export interface RenewalRow {
  renew_claimed_at: number;
  resync_before: number | null;
}

/**
 * Which confirmed hashes a claim sends again: those confirmed at or before `cutoff`. A renewal step
 * (renewals.ts: spread, and under a cadence only when its window is open) takes those past the
 * renewal age; a running resync takes every hash confirmed before it was asked for, with no
 * spreading (the user asked for it; the rate gate still keeps X's limits). `step` says whether the
 * renewal step ran (it is recorded). Null: nothing to send again.
 */
export function resendCutoff(
  row: RenewalRow,
  opts: Pick<ClaimOptions, 'now' | 'flushIntervalMs' | 'renewAfterMs'>,
  open: boolean,
): { cutoff: number; step: boolean } | null {
  const renew = open && renewalStepAllowed(row.renew_claimed_at, opts) ? opts.now - opts.renewAfterMs! : null;
  const resync = row.resync_before === null ? null : Number(row.resync_before) - 1;
  if (renew === null && resync === null) return null;
  return { cutoff: Math.max(renew ?? -Infinity, resync ?? -Infinity), step: renew !== null };
}
