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
