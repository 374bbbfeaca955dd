import type { Sql } from './db.ts';

/*
 * Settling starts here: every settle and release first locks its downstream row, and only if the
 * lease token still matches. A worker whose lease expired and was taken over settles nothing. The
 * row lock also keeps a claim (which skips locked rows) from re-leasing the row mid-settle.
 */

/** The SET clause that gives a lease back (states.ts, shared with SQLite). */
export { RELEASE_LEASE as RELEASE } from '../states.ts';

export interface Held {
  audience_id: string;
  identity_type: string;
}

export async function holdLease(c: Sql, downstreamId: number, token: string): Promise<Held | null> {
  const r = await c.query<Held>('SELECT audience_id, identity_type FROM downstreams WHERE id = $1 AND lease_token = $2 FOR UPDATE', [downstreamId, token]);
  return r.rows[0] ?? null;
}

/**
 * Locks the rows of the batch in hash order, before any statement changes them: ingest locks
 * outbox rows in (downstream, hash) order too, so the two never wait for each other in a circle.
 * A row that an ingest rewrote meanwhile (claim cleared) is no longer the batch's and is not taken.
 */
export async function lockBatch(c: Sql, downstreamId: number, token: string): Promise<void> {
  await c.query('SELECT 1 FROM outbox WHERE downstream_id = $1 AND claim_token = $2 ORDER BY hash FOR UPDATE', [downstreamId, token]);
}

/**
 * Forgets downstream audiences and everything kept about them (X deleted them, they were never
 * created, or their configuration was deleted): what came from X too (their figures, samples, the
 * delivery log's answers), which nothing would prune once the downstream audience is gone.
 */
export async function forgetDownstreams(c: Sql, ids: number[]): Promise<void> {
  if (ids.length === 0) return;
  for (const table of ['outbox', 'x_members', 'samples', 'deliveries', 'downstream_errors', 'downstream_events']) {
    await c.query(`DELETE FROM ${table} WHERE downstream_id = ANY($1::bigint[])`, [ids]);
  }
  await c.query('DELETE FROM downstreams WHERE id = ANY($1::bigint[])', [ids]);
}
