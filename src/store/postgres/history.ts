import type { DownstreamEventKind } from '../../core/terms.ts';
import { ERRORS_KEPT, EVENTS_KEPT, FORWARDING_STATES, SAMPLES_KEPT } from '../states.ts';
import type { Sql } from './db.ts';

/** Members sent and X's size now, for the status page's history. Runs under the downstream's row lock. */
export async function recordSample(c: Sql, downstreamId: number, now: number): Promise<void> {
  await c.query(
    `INSERT INTO samples (downstream_id, at, members, audience_size, sized_members) SELECT id, $2, members, audience_size, sized_members FROM downstreams WHERE id = $1
     ON CONFLICT (downstream_id, at) DO UPDATE SET members = excluded.members, audience_size = excluded.audience_size, sized_members = excluded.sized_members`,
    [downstreamId, now],
  );
  await c.query('DELETE FROM samples WHERE downstream_id = $1 AND at < (SELECT at FROM samples WHERE downstream_id = $1 ORDER BY at DESC LIMIT 1 OFFSET $2)', [
    downstreamId,
    SAMPLES_KEPT - 1,
  ]);
}

export async function recordError(c: Sql, downstreamId: number, message: string, now: number): Promise<void> {
  await c.query('INSERT INTO downstream_errors (downstream_id, at, message) VALUES ($1, $2, $3)', [downstreamId, now, message]);
  await c.query(
    'DELETE FROM downstream_errors WHERE downstream_id = $1 AND id < (SELECT id FROM downstream_errors WHERE downstream_id = $1 ORDER BY id DESC LIMIT 1 OFFSET $2)',
    [downstreamId, ERRORS_KEPT - 1],
  );
}

/** The oldest events of these downstream audiences beyond EVENTS_KEPT each go. */
const TRIM_EVENTS = `DELETE FROM downstream_events d WHERE d.downstream_id = ANY($1::bigint[])
  AND d.id < (SELECT e.id FROM downstream_events e WHERE e.downstream_id = d.downstream_id ORDER BY e.id DESC LIMIT 1 OFFSET $2)`;

/** Marks something that happened to one downstream audience on its chart. */
export async function recordEvent(c: Sql, downstreamId: number, kind: DownstreamEventKind, detail: string | null, now: number): Promise<void> {
  await c.query('INSERT INTO downstream_events (downstream_id, at, kind, detail) VALUES ($1, $2, $3, $4)', [downstreamId, now, kind, detail]);
  await c.query(TRIM_EVENTS, [[downstreamId], EVENTS_KEPT - 1]);
}

/** A configuration paused or resumed: marked on the charts of the X audiences it writes to (detached ones are not written). */
export async function recordConfigurationEvent(c: Sql, configurationId: string, kind: 'paused' | 'resumed', now: number): Promise<void> {
  const ids = (
    await c.query<{ id: number }>(
      `INSERT INTO downstream_events (downstream_id, at, kind) SELECT id, $2, $3 FROM downstreams WHERE configuration_id = $1 AND state IN ${FORWARDING_STATES}
       RETURNING downstream_id AS id`,
      [configurationId, now, kind],
    )
  ).rows.map((r) => r.id);
  if (ids.length) await c.query(TRIM_EVENTS, [ids, EVENTS_KEPT - 1]);
}
