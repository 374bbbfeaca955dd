import type Database from 'better-sqlite3';
import { ERRORS_KEPT, SAMPLES_KEPT } from '../states.ts';

/** Members sent and X's size now, for the status page's history; the oldest beyond SAMPLES_KEPT go. */
export function recordSample(db: Database.Database, downstreamId: number, now: number): void {
  db.prepare(
    `INSERT OR REPLACE INTO samples (downstream_id, at, members, audience_size, sized_members)
     SELECT id, ?, members, audience_size, sized_members FROM downstreams WHERE id = ?`,
  ).run(now, downstreamId);
  db.prepare('DELETE FROM samples WHERE downstream_id = ? AND at < (SELECT at FROM samples WHERE downstream_id = ? ORDER BY at DESC LIMIT 1 OFFSET ?)').run(
    downstreamId,
    downstreamId,
    SAMPLES_KEPT - 1,
  );
}

export function recordError(db: Database.Database, downstreamId: number, message: string, now: number): void {
  db.prepare('INSERT INTO downstream_errors (downstream_id, at, message) VALUES (?, ?, ?)').run(downstreamId, now, message);
  db.prepare(
    'DELETE FROM downstream_errors WHERE downstream_id = ? AND id < (SELECT id FROM downstream_errors WHERE downstream_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?)',
  ).run(downstreamId, downstreamId, ERRORS_KEPT - 1);
}
