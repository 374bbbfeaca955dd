import type { DeletionStatus, DownstreamStatus, MetricsSnapshot } from '../port.ts';
import { toDeletion, toDownstream, type DownstreamRow } from '../rows.ts';
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
): Promise<{ downstreamId: number; at: number; members: number; audienceSize: number | null }[]> {
  const r = await c.query<{ downstreamId: number; at: number; members: number; audienceSize: number | null }>(
    `SELECT s.downstream_id AS "downstreamId", s.at, s.members, s.audience_size AS "audienceSize" FROM samples s
     JOIN downstreams d ON d.id = s.downstream_id WHERE d.audience_id = $1 ORDER BY s.at`,
    [audienceId],
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

export async function listDownstreams(c: Reader, audienceId: string): Promise<DownstreamStatus[]> {
  const rows = await c.query<DownstreamRow & { pending: number; resync_remaining: number | null }>(
    `SELECT d.*, (SELECT count(*) FROM outbox o WHERE o.downstream_id = d.id) AS pending,
       CASE WHEN d.resync_before IS NULL THEN NULL ELSE GREATEST(0, d.resync_total - d.resync_sent) END AS resync_remaining
     FROM downstreams d
     WHERE d.audience_id = $1 ORDER BY d.configuration_id, CASE d.identity_type WHEN 'email' THEN 0 WHEN 'handle' THEN 1 ELSE 2 END, d.id`,
    [audienceId],
  );
  return rows.rows.map((r) => ({ ...toDownstream(r), pending: r.pending, resyncRemaining: r.resync_remaining }));
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
