/*
 * The send cadence of a connection and the resyncs, for both dialects' claim.ts (docs/architecture.md,
 * "Audience tools"). With a cadence (`send_interval_ms`), a downstream audience's changes are
 * claimed only once `next_send_at` has come; the send that drains its outbox then sets the next
 * one an interval later. A batch that leaves changes behind (it was full) keeps the window open, so
 * a backlog goes out at once, packed and rate-limited like any other, and the next window starts
 * after it: X sees one add and one remove update per audience per interval, however big.
 */

export interface CadenceRow {
  send_interval_ms: number | null;
  next_send_at: number;
}

/**
 * Whether the changes of this downstream audience may be claimed now. `optOutWaiting` (asked only
 * while the window is closed; optOutWaitingSql below): whether a suppressed hash's change waits in
 * its outbox. A cadence may be up to a week, and X allows an opt-out 24 hours (docs/privacy.md):
 * such a change opens the window, and the batch takes the other waiting changes with it.
 */
export function cadenceOpen(row: CadenceRow, now: number, optOutWaiting: () => boolean = () => false): boolean {
  return row.send_interval_ms === null || row.next_send_at <= now || optOutWaiting();
}

/**
 * The same SQL on both dialects: a change of a suppressed hash not yet settled waits in the outbox
 * of downstream audience `d` (a row alias). Reads the unsettled suppressions (a partial index, few
 * rows but for a burst of opt-outs) and seeks each in the outbox's primary key.
 */
export const optOutWaitingSql = (d: string): string =>
  `EXISTS (SELECT 1 FROM suppressions s JOIN outbox o ON o.downstream_id = ${d}.id AND o.hash = s.hash
     WHERE s.settled_at IS NULL AND s.identity_type = ${d}.identity_type)`;

/** After a send claimed `claimed` of at most `max` changes: the next send's earliest time, or null to leave it. */
export function nextSendAfter(row: CadenceRow, now: number, claimed: number, max: number): number | null {
  if (row.send_interval_ms === null || claimed >= max) return null;
  return now + Number(row.send_interval_ms);
}

/**
 * A running resync (`resync_before` set) replaces the renewal step: it sends every hash X
 * confirmed before it was asked for, in hash order after `resync_cursor`, a batch at a time with
 * no spreading (the user asked for it; the rate gate still keeps X's limits), and ends at the
 * first claim that finds none left. The cursor moves when a batch settles (settle-sent.ts), so a
 * batch that failed is sent again, and a hash X refused is passed rather than resent at once.
 */
export function resyncRunning(row: { resync_before: number | null }): boolean {
  return row.resync_before !== null;
}
