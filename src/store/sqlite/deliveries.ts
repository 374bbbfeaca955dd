import type Database from 'better-sqlite3';
import type { Delivery, DeliveryRow } from '../port.ts';

/*
 * The delivery log: one row per `users` call. recordDelivery runs in its own IMMEDIATE
 * transaction (index.ts), apart from any settle: it logs what went to X whoever holds the lease
 * now. Old rows go with the retention pass (retention.ts).
 * listDeliveries is a plain read (a WAL snapshot).
 */

export function recordDelivery(db: Database.Database, downstreamId: number, d: Delivery): void {
  db.prepare(
    `INSERT INTO deliveries (downstream_id, at, adds, removes, bytes, status, success_count, total_count, duration_ms, error)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(downstreamId, d.at, d.adds, d.removes, d.bytes, d.status, d.successCount, d.totalCount, Math.round(d.durationMs), d.error);
}

export function listDeliveries(db: Database.Database, audienceId: string, opts: { before?: number; limit: number; downstreamIds?: number[] }): DeliveryRow[] {
  return db
    .prepare(
      `SELECT l.id, l.downstream_id AS downstreamId, l.at, l.adds, l.removes, l.bytes, l.status, l.success_count AS successCount,
         l.total_count AS totalCount, l.duration_ms AS durationMs, l.error
       FROM deliveries l WHERE l.downstream_id IN (SELECT id FROM downstreams WHERE audience_id = @audience
           AND (@downstreams IS NULL OR id IN (SELECT value FROM json_each(@downstreams))))
         AND (@before IS NULL OR l.id < @before)
       ORDER BY l.id DESC LIMIT @limit`,
    )
    .all({
      audience: audienceId,
      downstreams: opts.downstreamIds ? JSON.stringify(opts.downstreamIds) : null,
      before: opts.before ?? null,
      limit: opts.limit,
    }) as DeliveryRow[];
}
