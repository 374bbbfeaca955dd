import type { Delivery, DeliveryRow } from '../port.ts';
import type { Reader } from './db.ts';

/*
 * The delivery log: one row per `users` call. recordDelivery is one statement of its own (index.ts),
 * apart from any settle and taking no lock but the rows it writes: it logs what went to X whoever
 * holds the lease now. Old rows go with the retention pass (retention.ts).
 * listDeliveries is a plain read on the pool.
 */

/**
 * One statement: one round trip and one commit per
 * `users` call, and a commit that does not wait for the disk (synchronous_commit off for this
 * statement's transaction): a log row lost to a server crash is a line missing from the log,
 * while the worker's loop no longer waits a WAL flush between X's answer and the settle.
 */
export async function recordDelivery(c: Reader, downstreamId: number, d: Delivery): Promise<void> {
  await c.query(
    `WITH async AS (SELECT set_config('synchronous_commit', 'off', true))
     INSERT INTO deliveries (downstream_id, at, adds, removes, bytes, status, success_count, total_count, duration_ms, error)
     SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10 FROM async`,
    [downstreamId, d.at, d.adds, d.removes, d.bytes, d.status, d.successCount, d.totalCount, Math.round(d.durationMs), d.error],
  );
}

export async function listDeliveries(
  c: Reader,
  audienceId: string,
  opts: { before?: number; limit: number; downstreamIds?: number[] },
): Promise<DeliveryRow[]> {
  const r = await c.query<DeliveryRow>(
    `SELECT l.id, l.downstream_id AS "downstreamId", l.at, l.adds, l.removes, l.bytes, l.status, l.success_count AS "successCount",
       l.total_count AS "totalCount", l.duration_ms AS "durationMs", l.error
     FROM deliveries l WHERE l.downstream_id IN (SELECT id FROM downstreams WHERE audience_id = $1 AND ($2::bigint[] IS NULL OR id = ANY($2::bigint[])))
       AND ($3::bigint IS NULL OR l.id < $3::bigint)
     ORDER BY l.id DESC LIMIT $4`,
    [audienceId, opts.downstreamIds ?? null, opts.before ?? null, opts.limit],
  );
  return r.rows;
}
