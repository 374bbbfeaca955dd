import type { ClaimOptions } from './port.ts';

/**
 * When a claim may run its renewal step (both dialects' claim.ts; PostgreSQL's pick repeats it in
 * SQL). Renewals are spread over time: a downstream audience runs at most one renewal step per
 * flush interval, and a step takes at most what is left of one batch (one request). An audience
 * whose ten million members were all confirmed on one day therefore comes due as about one request
 * per flush interval (some 160 over half an hour at the defaults), not as a burst of 160 requests
 * that would hold up every other audience's adds and removes behind X's 1,500 requests a minute.
 * X's 13-month expiry leaves two months after the default 330 days, far more than any backlog needs.
 */
export function renewalStepAllowed(
  renewClaimedAt: number,
  opts: Pick<ClaimOptions, 'now' | 'flushIntervalMs' | 'renewAfterMs'>,
): opts is typeof opts & { renewAfterMs: number } {
  return opts.renewAfterMs !== undefined && renewClaimedAt <= opts.now - opts.flushIntervalMs;
}

/*
 * Which hashes a renewal step takes, without an index by confirmation time (migration 0023).
 *
 * Each downstream audience keeps `renew_bound`, a lower bound of its oldest confirmation: no hash X
 * confirmed for it is older. Every write that confirms a hash does so as of its own clock, never
 * earlier than the bound (settle-sent.ts lowers it to that time if needed), so it stays a bound.
 * Once the bound is past the renewal age, a pass starts: its steps walk the X ledger in hash order
 * (its primary key) behind `renew_cursor`, as a resync does, at most RENEWAL_SCAN_ROWS rows a step.
 * A row past the renewal age that may be renewed (held, no pending change, not suppressed) is
 * taken; every other row's confirmation goes into `renew_pass_min`, which starts at the pass's own
 * start (whatever is confirmed while the pass runs is confirmed later). When a step reaches the end
 * having taken nothing, `renew_pass_min` becomes the bound: the oldest confirmation the pass left
 * behind, so the next pass comes due exactly when its oldest hash does (nextDueAt reads it).
 *
 * The cursor moves past a step's renewals only when they settle as sent (settle-sent.ts), as a
 * resync's does: a renewal refused, given back, or lost with its worker is still old and lies after
 * the cursor, so the next step finds it again. Renewals refused in a settled batch keep the cursor
 * before the first of them.
 *
 * Every renewal stays before its deadline: a hash confirmed at t is counted by any pass that reaches
 * it before t + renewAfter, so the bound after that pass is at most t and the next pass starts by
 * max(its end, t + renewAfter) and takes it. A hash is renewed at the latest two pass lengths after
 * t + renewAfter. A pass of n rows takes at most n / RENEWAL_SCAN_ROWS steps plus one per batch of
 * renewals, one per flush interval: 10 million rows at 4,000 a step and 10 s is about 7 hours
 * (and 160 batches), against the two months X's 13 months leave after the default 330 days.
 *
 * What it costs: a pass reads the whole X ledger of its downstream audience once per renewal
 * period (the index it replaces cost a B-tree entry per hash, 154 bytes per member on SQLite). A
 * hash that is due but may not be renewed (a pending change: it goes with that change) keeps the
 * bound at its old time, so passes follow each other, one step per flush interval, until it goes.
 */

/**
 * Rows of the X ledger one renewal step reads at most: 6–8 ms on SQLite (10,000 took 19–25 ms,
 * measured on the shared machine), inside the claim's last slice.
 */
export const RENEWAL_SCAN_ROWS = 4_000;

/** A row of the X ledger as a renewal step reads it: eligible when past the age and renewable. */
export interface ScannedRow {
  hash: Buffer;
  confirmed_at: number | null;
  eligible: boolean | number;
}

export interface RenewalStep {
  /** The hashes to renew, in hash order. */
  taken: Buffer[];
  /** Where the next step starts: after the rows counted before the first renewal. */
  cursor: Buffer | null;
  passMin: number;
  /** The pass has read the whole ledger and left nothing to renew: passMin is the new bound. */
  complete: boolean;
}

/** One step over `rows` (the ledger after the cursor, in hash order, at most `limit` rows). */
export function renewalStep(rows: ScannedRow[], cursor: Buffer | null, passMin: number, room: number, limit = RENEWAL_SCAN_ROWS): RenewalStep {
  const taken: Buffer[] = [];
  let next = cursor;
  let min = passMin;
  for (const r of rows) {
    if (r.eligible === true || r.eligible === 1) {
      taken.push(r.hash);
      if (taken.length >= room) break;
      continue;
    }
    if (r.confirmed_at !== null) min = Math.min(min, r.confirmed_at);
    if (taken.length === 0) next = r.hash;
  }
  return { taken, cursor: next, passMin: min, complete: taken.length === 0 && rows.length < limit };
}

/** The renewal columns of a downstream row (0023). */
export interface RenewalState {
  renew_bound: number | null;
  renew_pass_min: number | null;
  renew_cursor: Buffer | null;
}

/** What a step writes back to the downstream row, and whether it counts as a step (renew_claimed_at). */
export interface RenewalOutcome {
  taken: Buffer[];
  state: RenewalState;
  recorded: boolean;
}

/**
 * The renewal step of a claim, as a generator: it yields the cursor after which the claim reads
 * the ledger (at most RENEWAL_SCAN_ROWS rows in hash order, `eligible` past `dueBy`), is given the
 * rows, and returns what to write back (null: no pass running and the bound not yet due). A step
 * that only finds the end of a pass whose renewals all settled ends it without counting as a step
 * (nothing was sent), and starts the next pass at once when the new bound is already due.
 */
export function* renewalSteps(
  row: RenewalState,
  now: number,
  dueBy: number,
  room: number,
  limit = RENEWAL_SCAN_ROWS,
): Generator<Buffer | null, RenewalOutcome | null, ScannedRow[]> {
  const fresh = row.renew_pass_min === null;
  if (fresh && (row.renew_bound === null || row.renew_bound > dueBy)) return null;
  const cursor = fresh ? null : row.renew_cursor;
  let step = renewalStep(yield cursor, cursor, fresh ? now : row.renew_pass_min!, room, limit);
  if (step.complete && !fresh) {
    if (step.passMin > dueBy) return { taken: [], state: { renew_bound: step.passMin, renew_pass_min: null, renew_cursor: null }, recorded: false };
    // The pass left a due hash behind (one it could not renew then): the next pass starts now.
    step = renewalStep(yield null, null, now, room, limit);
  }
  if (step.complete) return { taken: [], state: { renew_bound: step.passMin, renew_pass_min: null, renew_cursor: null }, recorded: true };
  return { taken: step.taken, state: { renew_bound: row.renew_bound, renew_pass_min: step.passMin, renew_cursor: step.cursor }, recorded: true };
}

/** Runs renewalSteps with a synchronous read (SQLite). */
export function runRenewalSteps(
  steps: Generator<Buffer | null, RenewalOutcome | null, ScannedRow[]>,
  scan: (cursor: Buffer | null) => ScannedRow[],
): RenewalOutcome | null {
  let r = steps.next();
  while (!r.done) r = steps.next(scan(r.value));
  return r.value;
}

/** Runs renewalSteps with an asynchronous read (PostgreSQL). */
export async function runRenewalStepsAsync(
  steps: Generator<Buffer | null, RenewalOutcome | null, ScannedRow[]>,
  scan: (cursor: Buffer | null) => Promise<ScannedRow[]>,
): Promise<RenewalOutcome | null> {
  let r = steps.next();
  while (!r.done) r = steps.next(await scan(r.value));
  return r.value;
}

/**
 * Where a settled batch leaves the renewal pass's cursor: past its last renewal, or before the
 * first one X refused (that one is still old: the next step takes it again). null: unchanged.
 */
export function cursorAfterSettle(renewed: readonly string[], rejected: ReadonlySet<string>): string | null {
  const sorted = [...renewed].sort(); // hex order is byte order, the ledger's
  const firstRefused = sorted.findIndex((h) => rejected.has(h));
  if (firstRefused === -1) return sorted[sorted.length - 1] ?? null;
  return firstRefused === 0 ? null : sorted[firstRefused - 1]!;
}
