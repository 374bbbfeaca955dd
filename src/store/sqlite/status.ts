import type Database from 'better-sqlite3';
import { prepared } from './statements.ts';
import type { AudiencesStatus, DeletionStatus, DownstreamEvent, DownstreamStatus, MetricsSnapshot } from '../port.ts';
import { toConnection, toDeletion, toDownstreamStatus, type ConnectionRow, type DownstreamFiguresRow, type DownstreamRow } from '../rows.ts';

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

export function listSamples(
  db: Database.Database,
  audienceId: string,
  since = -1,
): { downstreamId: number; at: number; members: number; audienceSize: number | null; sizedMembers: number | null }[] {
  return prepared(
    db,
    `SELECT s.downstream_id AS downstreamId, s.at, s.members, s.audience_size AS audienceSize, s.sized_members AS sizedMembers FROM samples s
       JOIN downstreams d ON d.id = s.downstream_id WHERE d.audience_id = ? AND s.at > ? ORDER BY s.at`,
  ).all(audienceId, since) as { downstreamId: number; at: number; members: number; audienceSize: number | null; sizedMembers: number | null }[];
}

export function listEvents(db: Database.Database, audienceId: string, since = -1): DownstreamEvent[] {
  return prepared(
    db,
    `SELECT e.downstream_id AS downstreamId, e.at, e.kind, e.detail FROM downstream_events e
       JOIN downstreams d ON d.id = e.downstream_id WHERE d.audience_id = ? AND e.at > ? ORDER BY e.at, e.id`,
  ).all(audienceId, since) as DownstreamEvent[];
}

export function listErrors(db: Database.Database, audienceId: string, limit: number): { downstreamId: number; at: number; message: string }[] {
  return prepared(
    db,
    `SELECT e.downstream_id AS downstreamId, e.at, e.message FROM downstream_errors e
       JOIN downstreams d ON d.id = e.downstream_id WHERE d.audience_id = ? ORDER BY e.id DESC LIMIT ?`,
  ).all(audienceId, limit) as { downstreamId: number; at: number; message: string }[];
}

/**
 * Downstream rows with their figures (rows.ts DownstreamFiguresRow): the outbox by op, its oldest
 * change, the uncertain hashes, how pending changes move the confirmed count toward the target,
 * and what a running resync has still to send (from its counters).
 * `audiences` is a subquery or list of audience ids. The outbox's join to the X ledger is one seek
 * per pending change; the uncertain count one seek (x_members_uncertain).
 */
function downstreamsSql(audiences: string): string {
  return `SELECT d.*, COALESCE(o.pending, 0) AS pending, COALESCE(o.adds, 0) AS pending_adds, o.oldest AS oldest_pending_at,
      COALESCE(o.delta, 0) AS target_delta,
      (SELECT COUNT(*) FROM x_members x WHERE x.downstream_id = d.id AND x.confirmed = 0) AS uncertain,
      CASE WHEN d.resync_before IS NULL THEN NULL ELSE MAX(0, d.resync_total - d.resync_sent) END AS resync_remaining
    FROM downstreams d LEFT JOIN (
      SELECT o.downstream_id, COUNT(*) AS pending, SUM(o.op = 'add') AS adds, MIN(o.enqueued_at) AS oldest,
        SUM(CASE WHEN o.op = 'add' AND COALESCE(x.confirmed, 0) = 0 THEN 1 WHEN o.op = 'remove' AND x.confirmed = 1 THEN -1 ELSE 0 END) AS delta
      FROM outbox o LEFT JOIN x_members x ON x.downstream_id = o.downstream_id AND x.hash = o.hash
      WHERE o.downstream_id IN (SELECT id FROM downstreams WHERE audience_id IN ${audiences})
      GROUP BY o.downstream_id
    ) o ON o.downstream_id = d.id
    WHERE d.audience_id IN ${audiences}
    ORDER BY d.audience_id, d.configuration_id, CASE d.identity_type WHEN 'email' THEN 0 WHEN 'handle' THEN 1 ELSE 2 END, d.id`;
}

export function listDownstreams(db: Database.Database, audienceId: string): DownstreamStatus[] {
  const rows = prepared(db, downstreamsSql('(@audience)')).all({ audience: audienceId }) as (DownstreamRow & DownstreamFiguresRow)[];
  return rows.map(toDownstreamStatus);
}

/**
 * The status of a page of audiences in four reads, whatever the page's size: connections,
 * downstream audiences with their figures, the newest errors of each, rejections.
 */
export function audiencesStatus(db: Database.Database, audienceIds: string[], errorsPer: number): AudiencesStatus {
  const ids = JSON.stringify(audienceIds);
  const list = '(SELECT value FROM json_each(@ids))';
  const connections = (prepared(db, `SELECT * FROM connections WHERE audience_id IN ${list} ORDER BY created_at`).all({ ids }) as ConnectionRow[]).map(
    toConnection,
  );
  const downstreams = (prepared(db, downstreamsSql(list)).all({ ids }) as (DownstreamRow & DownstreamFiguresRow)[]).map(toDownstreamStatus);
  const errors = prepared(
    db,
    `SELECT downstreamId, at, message FROM (
         SELECT e.downstream_id AS downstreamId, e.at, e.message, e.id,
           ROW_NUMBER() OVER (PARTITION BY e.downstream_id ORDER BY e.id DESC) AS n
         FROM downstream_errors e JOIN downstreams d ON d.id = e.downstream_id WHERE d.audience_id IN ${list}
       ) WHERE n <= @per ORDER BY id DESC`,
  ).all({ ids, per: errorsPer }) as { downstreamId: number; at: number; message: string }[];
  const rejections = prepared(
    db,
    `SELECT audience_id AS audienceId, reason, count, last_at AS lastAt FROM rejections WHERE audience_id IN ${list} ORDER BY count DESC`,
  ).all({ ids }) as AudiencesStatus['rejections'];
  return { connections, downstreams, errors, rejections };
}

export function listRejections(db: Database.Database, audienceId: string): { reason: string; count: number; lastAt: number }[] {
  return prepared(db, 'SELECT reason, count, last_at AS lastAt FROM rejections WHERE audience_id = ? ORDER BY count DESC').all(audienceId) as {
    reason: string;
    count: number;
    lastAt: number;
  }[];
}

/** X audiences of deleted audiences still to be deleted on X, oldest first. */
export function listDeletions(db: Database.Database): DeletionStatus[] {
  const rows = prepared(db, "SELECT * FROM downstreams WHERE state = 'deleting' ORDER BY updated_at, id").all() as DownstreamRow[];
  return rows.map(toDeletion);
}
