import type Database from 'better-sqlite3';

/*
 * The lease on SQLite. Every settle and release first checks that the lease token still matches:
 * a worker whose lease expired (and was taken over) settles nothing. No row lock is needed: the
 * caller's IMMEDIATE transaction makes it the only writer of the file until it commits.
 */

/** The SET clause that gives a lease back (states.ts, shared with PostgreSQL). */
export { RELEASE_LEASE as RELEASE } from '../states.ts';

export function holds(db: Database.Database, downstreamId: number, token: string): boolean {
  return db.prepare('SELECT 1 FROM downstreams WHERE id = ? AND lease_token = ?').get(downstreamId, token) !== undefined;
}

/**
 * Forgets a downstream audience and everything kept about it (X deleted it, it was never created,
 * or its configuration was deleted): what came from X too (its figures, samples, the delivery
 * log's answers), which nothing would prune once the downstream audience is gone.
 */
export function forgetDownstream(db: Database.Database, id: number): void {
  db.prepare('DELETE FROM outbox WHERE downstream_id = ?').run(id);
  db.prepare('DELETE FROM x_members WHERE downstream_id = ?').run(id);
  db.prepare('DELETE FROM samples WHERE downstream_id = ?').run(id);
  db.prepare('DELETE FROM deliveries WHERE downstream_id = ?').run(id);
  db.prepare('DELETE FROM downstream_errors WHERE downstream_id = ?').run(id);
  db.prepare('DELETE FROM downstream_events WHERE downstream_id = ?').run(id);
  db.prepare('DELETE FROM downstreams WHERE id = ?').run(id);
}
