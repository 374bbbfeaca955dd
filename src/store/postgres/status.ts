import type { AudiencesStatus, DeletionStatus, DownstreamEvent, DownstreamStatus, MetricsSnapshot } from '../port.ts';
import { toConnection, toDeletion, toDownstreamStatus, type ConnectionRow, type DownstreamFiguresRow, type DownstreamRow } from '../rows.ts';
import type { Reader } from './db.ts';

/*
 * The status reads (status page, /metrics). Plain reads on the pool, no transaction and no lock:
 * each statement sees the latest commits (READ COMMITTED), and none needs two to agree.
 */

export async function metricsSnapshot(c: Reader): Promise<MetricsSnapshot> {
  // One pass over the outbox's (downstream_id, enqueued_at) index per downstream audience.
  const pending = await c.query<MetricsSnapshot['pending'][number]>(
    `SELECT d.audience_id AS "audienceId", d.configuration_id AS "configurationId", d.identity_type AS "identityType",
       count(o.hash) AS count, min(o.enqueued_at) AS "oldestEnqueuedAt"
     FROM downstreams d LEFT JOIN outbox o ON o.downstream_id = d.id
     WHERE d.state <> 'deleting' GROUP BY d.id`,
  );
  const reauth = await c.query<{ n: number }>("SELECT count(*) AS n FROM configurations WHERE state = 'needs_reauth'");
  return { pending: pending.rows, configurationsNeedingReauth: reauth.rows[0]!.n };
}

export async function listSamples(
  c: Reader,
  audienceId: string,
  since = -1,
): Promise<{ downstreamId: number; at: number; members: number; audienceSize: number | null; sizedMembers: number | null }[]> {
  const r = await c.query<{ downstreamId: number; at: number; members: number; audienceSize: number | null; sizedMembers: number | null }>(
    `SELECT s.downstream_id AS "downstreamId", s.at, s.members, s.audience_size AS "audienceSize", s.sized_members AS "sizedMembers" FROM samples s
     JOIN downstreams d ON d.id = s.downstream_id WHERE d.audience_id = $1 AND s.at > $2 ORDER BY s.at`,
    [audienceId, since],
  );
  return r.rows;
}

export async function listEvents(c: Reader, audienceId: string, since = -1): Promise<DownstreamEvent[]> {
  const r = await c.query<DownstreamEvent>(
    `SELECT e.downstream_id AS "downstreamId", e.at, e.kind, e.detail FROM downstream_events e
     JOIN downstreams d ON d.id = e.downstream_id WHERE d.audience_id = $1 AND e.at > $2 ORDER BY e.at, e.id`,
    [audienceId, since],
  );
  return r.rows;
}

export async function listErrors(c: Reader, audienceId: string, limit: number): Promise<{ downstreamId: number; at: number; message: string }[]> {
  const r = await c.query<{ downstreamId: number; at: number; message: string }>(
    `SELECT e.downstream_id AS "downstreamId", e.at, e.message FROM downstream_errors e
     JOIN downstreams d ON d.id = e.downstream_id WHERE d.audience_id = $1 ORDER BY e.id DESC LIMIT $2`,
    [audienceId, limit],
  );
  return r.rows;
}

/**
 * Downstream rows with their figures (rows.ts DownstreamFiguresRow): the outbox by op, its oldest
 * change, the uncertain hashes, how pending changes move the confirmed count toward the target,
 * and what a running resync has still to send (from its counters).
 * $1 is an array of audience ids. The outbox's join to the X ledger is one seek per pending change;
 * the uncertain count one seek (x_members_uncertain).
 */
const DOWNSTREAMS_SQL = `SELECT d.*, COALESCE(o.pending, 0) AS pending, COALESCE(o.adds, 0) AS pending_adds, o.oldest AS oldest_pending_at,
    COALESCE(o.delta, 0) AS target_delta,
    (SELECT count(*) FROM x_members x WHERE x.downstream_id = d.id AND NOT x.confirmed) AS uncertain,
    CASE WHEN d.resync_before IS NULL THEN NULL ELSE GREATEST(0, d.resync_total - d.resync_sent) END AS resync_remaining
  FROM downstreams d LEFT JOIN (
    SELECT o.downstream_id, count(*) AS pending, count(*) FILTER (WHERE o.op = 'add') AS adds, min(o.enqueued_at) AS oldest,
      sum(CASE WHEN o.op = 'add' AND x.confirmed IS NOT TRUE THEN 1 WHEN o.op = 'remove' AND x.confirmed THEN -1 ELSE 0 END) AS delta
    FROM outbox o LEFT JOIN x_members x ON x.downstream_id = o.downstream_id AND x.hash = o.hash
    WHERE o.downstream_id IN (SELECT id FROM downstreams WHERE audience_id = ANY($1::text[]))
    GROUP BY o.downstream_id
  ) o ON o.downstream_id = d.id
  WHERE d.audience_id = ANY($1::text[])
  ORDER BY d.audience_id, d.configuration_id, CASE d.identity_type WHEN 'email' THEN 0 WHEN 'handle' THEN 1 ELSE 2 END, d.id`;

export async function listDownstreams(c: Reader, audienceId: string): Promise<DownstreamStatus[]> {
  const rows = await c.query<DownstreamRow & DownstreamFiguresRow>(DOWNSTREAMS_SQL, [[audienceId]]);
  return rows.rows.map(toDownstreamStatus);
}

/**
 * The status of a page of audiences in four reads, whatever the page's size: connections,
 * downstream audiences with their figures, the newest errors of each, rejections.
 */
export async function audiencesStatus(c: Reader, audienceIds: string[], errorsPer: number): Promise<AudiencesStatus> {
  const connections = (
    await c.query<ConnectionRow>('SELECT * FROM connections WHERE audience_id = ANY($1::text[]) ORDER BY created_at', [audienceIds])
  ).rows.map(toConnection);
  const downstreams = (await c.query<DownstreamRow & DownstreamFiguresRow>(DOWNSTREAMS_SQL, [audienceIds])).rows.map(toDownstreamStatus);
  const errors = await c.query<{ downstreamId: number; at: number; message: string }>(
    `SELECT "downstreamId", at, message FROM (
       SELECT e.downstream_id AS "downstreamId", e.at, e.message, e.id,
         row_number() OVER (PARTITION BY e.downstream_id ORDER BY e.id DESC) AS n
       FROM downstream_errors e JOIN downstreams d ON d.id = e.downstream_id WHERE d.audience_id = ANY($1::text[])
     ) e WHERE n <= $2 ORDER BY id DESC`,
    [audienceIds, errorsPer],
  );
  const rejections = await c.query<AudiencesStatus['rejections'][number]>(
    'SELECT audience_id AS "audienceId", reason, count, last_at AS "lastAt" FROM rejections WHERE audience_id = ANY($1::text[]) ORDER BY count DESC',
    [audienceIds],
  );
  return { connections, downstreams, errors: errors.rows, rejections: rejections.rows };
}

export async function listRejections(c: Reader, audienceId: string): Promise<{ reason: string; count: number; lastAt: number }[]> {
  const r = await c.query<{ reason: string; count: number; lastAt: number }>(
    'SELECT reason, count, last_at AS "lastAt" FROM rejections WHERE audience_id = $1 ORDER BY count DESC',
    [audienceId],
  );
  return r.rows;
}

/** X audiences of deleted audiences still to be deleted on X, oldest first. */
export async function listDeletions(c: Reader): Promise<DeletionStatus[]> {
  const rows = await c.query<DownstreamRow>("SELECT * FROM downstreams WHERE state = 'deleting' ORDER BY updated_at, id");
  return rows.rows.map(toDeletion);
}
