import type Database from 'better-sqlite3';

/*
 * The retention of X's data (port.ts RetentionStore): one IMMEDIATE transaction (the caller's),
 * so a refresh settling at the same time either comes before (and its fresh figures stay, being
 * newer than `before`) or after (and writes fresh ones).
 */

export function pruneXData(db: Database.Database, before: number, logBefore: number): { samples: number; downstreams: number; deliveries: number } {
  const samples = db.prepare('DELETE FROM samples WHERE at < ?').run(before).changes;
  // The delivery log: each `users` call with X's answer to it, kept by its own window and never
  // longer than X's data (the pruner passes the sooner of the two cuts).
  const deliveries = db.prepare('DELETE FROM deliveries WHERE at < ?').run(logBefore).changes;
  // The chart's markers go with the samples they stand among.
  db.prepare('DELETE FROM downstream_events WHERE at < ?').run(before);
  // X's figures date from sized_at (when X last reported a size: kept while X processes, so
  // refreshed_at moves on without them), or from refreshed_at before migration 0012. refreshed_at
  // and processing_since are Tailor's own clock and stay: a refresh is due anyway.
  const downstreams = db
    .prepare(
      `UPDATE downstreams SET audience_size = NULL, targetable = NULL, reasons_not_targetable = NULL, sized_at = NULL, sized_members = NULL
        WHERE COALESCE(sized_at, refreshed_at) < ? AND (audience_size IS NOT NULL OR targetable IS NOT NULL OR reasons_not_targetable IS NOT NULL)`,
    )
    .run(before).changes;
  return { samples, downstreams, deliveries };
}
