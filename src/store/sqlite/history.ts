import type Database from 'better-sqlite3';
import type { DownstreamEventKind } from '../../core/terms.ts';
import { ERRORS_KEPT, EVENTS_KEPT, FORWARDING_STATES, SAMPLES_KEPT } from '../states.ts';

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

/** The oldest events of these downstream audiences beyond EVENTS_KEPT each go. */
const TRIM_EVENTS = `DELETE FROM downstream_events WHERE downstream_id IN (SELECT value FROM json_each(?))
  AND id < (SELECT e.id FROM downstream_events e WHERE e.downstream_id = downstream_events.downstream_id ORDER BY e.id DESC LIMIT 1 OFFSET ?)`;

/** Marks something that happened to one downstream audience on its chart. */
export function recordEvent(db: Database.Database, downstreamId: number, kind: DownstreamEventKind, detail: string | null, now: number): void {
  db.prepare('INSERT INTO downstream_events (downstream_id, at, kind, detail) VALUES (?, ?, ?, ?)').run(downstreamId, now, kind, detail);
  db.prepare(TRIM_EVENTS).run(JSON.stringify([downstreamId]), EVENTS_KEPT - 1);
}

/** A configuration paused or resumed: marked on the charts of the X audiences it writes to (detached ones are not written). */
export function recordConfigurationEvent(db: Database.Database, configurationId: string, kind: 'paused' | 'resumed', now: number): void {
  const ids = db.prepare(`SELECT id FROM downstreams WHERE configuration_id = ? AND state IN ${FORWARDING_STATES}`).pluck().all(configurationId) as number[];
  if (ids.length === 0) return;
  db.prepare(`INSERT INTO downstream_events (downstream_id, at, kind) SELECT value, ?, ? FROM json_each(?)`).run(now, kind, JSON.stringify(ids));
  db.prepare(TRIM_EVENTS).run(JSON.stringify(ids), EVENTS_KEPT - 1);
}
