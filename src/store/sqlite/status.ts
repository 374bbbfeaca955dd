import type Database from 'better-sqlite3';
import type { DeletionStatus, DownstreamStatus, MetricsSnapshot } from '../port.ts';
import { toDeletion, toDownstream, type DownstreamRow } from '../rows.ts';

/*
 * The status reads (status page, /metrics). Plain reads outside any transaction: WAL gives each
 * statement a consistent snapshot, and none of these needs two statements to agree.
 */

export function metricsSnapshot(db: Database.Database): MetricsSnapshot {
  // One pass over the outbox's (downstream_id, enqueued_at) index; no table rows are read.
  const pending = db
    .prepare(
      `SELECT d.audience_id AS audienceId, d.configuration_id AS configurationId, d.identity_type AS identityType,
         COUNT(o.hash) AS count, MIN(o.enqueued_at) AS oldestEnqueuedAt
       FROM downstreams d LEFT JOIN outbox o ON o.downstream_id = d.id
       WHERE d.state <> 'deleting' GROUP BY d.id`,
    )
    .all() as MetricsSnapshot['pending'];
  const configurationsNeedingReauth = db.prepare("SELECT COUNT(*) FROM configurations WHERE state = 'needs_reauth'").pluck().get() as number;
  return { pending, configurationsNeedingReauth };
}

export function listSamples(db: Database.Database, audienceId: string): { downstreamId: number; at: number; members: number; audienceSize: number | null }[] {
  return db
    .prepare(
      `SELECT s.downstream_id AS downstreamId, s.at, s.members, s.audience_size AS audienceSize FROM samples s
       JOIN downstreams d ON d.id = s.downstream_id WHERE d.audience_id = ? ORDER BY s.at`,
    )
    .all(audienceId) as { downstreamId: number; at: number; members: number; audienceSize: number | null }[];
}

export function listErrors(db: Database.Database, audienceId: string, limit: number): { downstreamId: number; at: number; message: string }[] {
  return db
    .prepare(
      `SELECT e.downstream_id AS downstreamId, e.at, e.message FROM downstream_errors e
       JOIN downstreams d ON d.id = e.downstream_id WHERE d.audience_id = ? ORDER BY e.id DESC LIMIT ?`,
    )
    .all(audienceId, limit) as { downstreamId: number; at: number; message: string }[];
}

export function listDownstreams(db: Database.Database, audienceId: string): DownstreamStatus[] {
  const rows = db
    .prepare(
      `SELECT d.*, (SELECT COUNT(*) FROM outbox o WHERE o.downstream_id = d.id) AS pending,
         CASE WHEN d.resync_before IS NULL THEN NULL ELSE MAX(0, d.resync_total - d.resync_sent) END AS resync_remaining
       FROM downstreams d
       WHERE d.audience_id = ? ORDER BY d.configuration_id, CASE d.identity_type WHEN 'email' THEN 0 WHEN 'handle' THEN 1 ELSE 2 END, d.id`,
    )
    .all(audienceId) as (DownstreamRow & { pending: number; resync_remaining: number | null })[];
  return rows.map((r) => ({ ...toDownstream(r), pending: r.pending, resyncRemaining: r.resync_remaining }));
}

export function listRejections(db: Database.Database, audienceId: string): { reason: string; count: number; lastAt: number }[] {
  return db.prepare('SELECT reason, count, last_at AS lastAt FROM rejections WHERE audience_id = ? ORDER BY count DESC').all(audienceId) as {
    reason: string;
    count: number;
    lastAt: number;
  }[];
}

/** X audiences of deleted audiences still to be deleted on X, oldest first. */
export function listDeletions(db: Database.Database): DeletionStatus[] {
  const rows = db.prepare("SELECT * FROM downstreams WHERE state = 'deleting' ORDER BY updated_at, id").all() as DownstreamRow[];
  return rows.map(toDeletion);
}
