import type Database from 'better-sqlite3';

/**
 * Statements compiled once per connection and SQL text, for the reads every request makes (the
 * audience list, a page's status; a Firehose message's look-ups of its account, audience, connections
 * and the suppression list). better-sqlite3 compiles SQL on every prepare(): for the status
 * reads of a page, a few hundred lines of SQL, that was a tenth of a polled list's time
 * (bench/status-list.ts). The texts come from code, not from input (values are bound), so the
 * cache holds a few dozen entries at most; it is bounded anyway, dropping the oldest. A statement's
 * mode (pluck) is its callers' to set each time: one SQL text is one caller.
 */
const MAX = 200;
const byConnection = new WeakMap<Database.Database, Map<string, Database.Statement>>();

export function prepared(db: Database.Database, sql: string): Database.Statement {
  let cache = byConnection.get(db);
  if (cache === undefined) byConnection.set(db, (cache = new Map<string, Database.Statement>()));
  let s = cache.get(sql);
  if (s === undefined) {
    s = db.prepare(sql);
    if (cache.size >= MAX) cache.delete(cache.keys().next().value!);
    cache.set(sql, s);
  }
  return s;
}
