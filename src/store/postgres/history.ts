import { ERRORS_KEPT, SAMPLES_KEPT } from '../states.ts';
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
