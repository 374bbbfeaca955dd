import type Database from 'better-sqlite3';

/**
 * "Does this downstream audience hold a full batch?" without counting its outbox on every look.
 *
 * After every request each idle sync loop claims (worker.ts), and the claim asks this of every
 * downstream audience whose oldest change has not yet waited the flush interval. Counting the
 * answer (`COUNT(*)` over at most a full batch, some 60,000 index entries) inside the write
 * transaction took a fifth of `tailor serve`'s event loop under REST ingest, and two thirds while
 * a backlog waited: several loops recounted the same rows after each request.
 *
 * So a count under the batch size is remembered with this connection's total_changes() and the
 * file's data_version. Until another connection commits (data_version moves), the outbox can have
 * gained at most as many rows as this connection changed since (every row an INSERT, UPDATE or
 * DELETE touched counts once, and deletions only shrink the outbox). While the remembered count
 * plus that growth stays under a full batch, the answer is still no, and no row is read. The
 * bound is loose (a request also changes ledger rows) but sound, so a full batch is never missed:
 * the count runs again once it could be full. A transaction that rolls back only restores rows
 * it changed after the count, so the count still bounds them.
 */
interface Counted {
  count: number;
  changes: number;
  version: number;
}

interface Statements {
  oldest: Database.Statement;
  count: Database.Statement;
  changes: Database.Statement;
  version: Database.Statement;
  counted: Map<number, Counted>;
  quiet: Quiet | null;
}

const byConnection = new WeakMap<Database.Database, Statements>();

/** Prepared once per connection: the claim runs after every request. */
export function statementsOf(db: Database.Database): Statements {
  let s = byConnection.get(db);
  if (s === undefined) {
    s = {
      oldest: db.prepare('SELECT MIN(enqueued_at) FROM outbox WHERE downstream_id = ?').pluck(),
      count: db.prepare('SELECT COUNT(*) FROM (SELECT 1 FROM outbox WHERE downstream_id = ? LIMIT ?)').pluck(),
      changes: db.prepare('SELECT total_changes()').pluck(),
      version: db.prepare('PRAGMA data_version').pluck(),
      counted: new Map(),
      quiet: null,
    };
    byConnection.set(db, s);
  }
  return s;
}

export function holdsFullBatch(db: Database.Database, downstreamId: number, full: number): boolean {
  const s = statementsOf(db);
  const changes = s.changes.get() as number;
  const version = s.version.get() as number;
  const last = s.counted.get(downstreamId);
  if (last !== undefined && last.version === version && last.count + (changes - last.changes) < full) return false;
  const count = s.count.get(downstreamId, full) as number;
  if (count < full) s.counted.set(downstreamId, { count, changes, version });
  else s.counted.delete(downstreamId);
  return count >= full;
}

/**
 * "Can a claim find anything now?" without reading the downstream audiences again.
 *
 * Every idle sync loop claims and then asks nextDueAt about once a second (worker.ts). Both read
 * every downstream row that could have work: with 20,000 X audiences that was some 35 ms per loop
 * and second of a held event loop, while nothing had changed (bench/status-list.ts).
 *
 * So a claim that found nothing is remembered with the file's state (data_version and this
 * connection's total_changes, as above), and so is the due time nextDueAt then computed for that
 * same state. A claim is decided by the rows and the clock alone: while the state is still that
 * one and the clock has not reached the due time, a claim would find nothing again, and the
 * remembered due time is still the answer. Any write, by this connection or another, or the due
 * time passing, sends the next claim to the rows. The due time is kept only when nothing was
 * written between the empty claim and nextDueAt: nextDueAt knows the clock's rules, not a batch
 * grown full (holdsFullBatch), which only a claim sees.
 */
interface Quiet {
  state: string;
  /** The options of the empty claim (quietClaim), and the clock's among them (nextDueAt's). */
  claimOptions: string;
  clockOptions: string;
  /** undefined until nextDueAt ran on this state; null: nothing is due until something changes. */
  due: number | null | undefined;
}

const stateOf = (s: Statements): string => `${s.version.get() as number}:${s.changes.get() as number}`;

/** What nextDueAt is given: the clock's rules. */
export interface DueOptions {
  flushIntervalMs: number;
  refreshIntervalMs: number;
  renewAfterMs?: number | undefined;
}
/** And what a claim's answer also depends on (not its owner, lease length nor clock). */
export interface QuietClaimOptions extends DueOptions {
  fullBatch: number;
  maxChanges: number;
  maxChangesByType?: Partial<Record<string, number>> | undefined;
}
const clockKey = (o: DueOptions): string => JSON.stringify([o.flushIntervalMs, o.refreshIntervalMs, o.renewAfterMs ?? null]);
const claimKey = (o: QuietClaimOptions): string => JSON.stringify([clockKey(o), o.fullBatch, o.maxChanges, o.maxChangesByType ?? null]);

/** A claim found nothing to do, in the state it left. */
export function noteEmptyClaim(db: Database.Database, opts: QuietClaimOptions): void {
  const s = statementsOf(db);
  s.quiet = { state: stateOf(s), claimOptions: claimKey(opts), clockOptions: clockKey(opts), due: undefined };
}

/** Whether a claim now would surely find nothing: still the state of the last empty claim, before its due time. */
export function quietClaim(db: Database.Database, opts: QuietClaimOptions & { now: number }): boolean {
  const s = statementsOf(db);
  const q = s.quiet;
  if (q === null || q.due === undefined || q.claimOptions !== claimKey(opts) || q.state !== stateOf(s)) return false;
  return q.due === null || opts.now < q.due;
}

/** The due time nextDueAt found for this state after an empty claim, or undefined: read the rows. */
export function rememberedDue(db: Database.Database, opts: DueOptions): number | null | undefined {
  const s = statementsOf(db);
  const q = s.quiet;
  if (q === null || q.due === undefined || q.clockOptions !== clockKey(opts) || q.state !== stateOf(s)) return undefined;
  return q.due;
}

/** nextDueAt's answer, kept when the state is still that of the last empty claim. */
export function noteDue(db: Database.Database, opts: DueOptions, due: number | null): void {
  const s = statementsOf(db);
  const q = s.quiet;
  if (q !== null && q.clockOptions === clockKey(opts) && q.state === stateOf(s)) q.due = due;
}
