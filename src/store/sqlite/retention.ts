import type Database from 'better-sqlite3';

/*
 * The retention of X's data (port.ts RetentionStore): one IMMEDIATE transaction (the caller's),
 * so a refresh settling at the same time either comes before (and its fresh figures stay, being
 * newer than `before`) or after (and writes fresh ones).
 */

export function pruneXData(db: Database.Database, before: number): { samples: number; downstreams: number } {
  const samples = db.prepare('DELETE FROM samples WHERE at < ?').run(before).changes;
  // refreshed_at is Tailor's own clock (when it last read X) and stays: a refresh is due anyway.
  const downstreams = db
    .prepare(
      `UPDATE downstreams SET audience_size = NULL, targetable = NULL, reasons_not_targetable = NULL
        WHERE refreshed_at < ? AND (audience_size IS NOT NULL OR targetable IS NOT NULL OR reasons_not_targetable IS NOT NULL)`,
    )
    .run(before).changes;
  return { samples, downstreams };
}
