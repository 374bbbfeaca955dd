import type Database from 'better-sqlite3';
import { IDENTITY_TYPES, type IdentityType } from '../../core/terms.ts';
import type { Connection, ConnectionSettings } from '../port.ts';
import { toConnection, type ConnectionRow } from '../rows.ts';
import { toggleFor } from '../toggles.ts';
import type { SqliteLedger } from './ledger.ts';
import { prepared } from './statements.ts';

/*
 * Connections and the downstream audiences they switch on and off. Inside the caller's IMMEDIATE
 * transaction, so a connection's downstream rows and the resync of a new one (ledger.ts) are
 * written with no ingest in between: the new downstream audience misses no member.
 */

export function putConnection(
  db: Database.Database,
  ledger: SqliteLedger,
  audienceId: string,
  configurationId: string,
  toggles: ConnectionSettings,
  now: number,
): { connection: Connection; previous: Connection | null } {
  const existing = db.prepare('SELECT * FROM connections WHERE audience_id = ? AND configuration_id = ?').get(audienceId, configurationId) as
    ConnectionRow | undefined;
  db.prepare(
    `INSERT INTO connections (audience_id, configuration_id, forward_emails, forward_handles, forward_device_ids, forward_phone_numbers, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (audience_id, configuration_id) DO UPDATE SET forward_emails = excluded.forward_emails,
       forward_handles = excluded.forward_handles, forward_device_ids = excluded.forward_device_ids,
       forward_phone_numbers = excluded.forward_phone_numbers, updated_at = excluded.updated_at`,
  ).run(audienceId, configurationId, +toggles.forwardEmails, +toggles.forwardTwitterHandles, +toggles.forwardDeviceIds, +toggles.forwardPhoneNumbers, now, now);
  for (const type of IDENTITY_TYPES) applyToggle(db, ledger, audienceId, configurationId, type, toggleFor(toggles, type), now);
  // The cadence: left out, unchanged; its X audiences carry it for the claim (migration 0014).
  if (toggles.sendIntervalMinutes !== undefined)
    db.prepare('UPDATE connections SET send_interval_minutes = ? WHERE audience_id = ? AND configuration_id = ?').run(
      toggles.sendIntervalMinutes,
      audienceId,
      configurationId,
    );
  db.prepare(
    `UPDATE downstreams SET send_interval_ms = (SELECT k.send_interval_minutes * 60000 FROM connections k WHERE k.audience_id = downstreams.audience_id
       AND k.configuration_id = downstreams.configuration_id) WHERE audience_id = ? AND configuration_id = ? AND state <> 'deleting'`,
  ).run(audienceId, configurationId);
  const row = db.prepare('SELECT * FROM connections WHERE audience_id = ? AND configuration_id = ?').get(audienceId, configurationId) as ConnectionRow;
  return { connection: toConnection(row), previous: existing ? toConnection(existing) : null };
}

function applyToggle(
  db: Database.Database,
  ledger: SqliteLedger,
  audienceId: string,
  configurationId: string,
  type: IdentityType,
  on: boolean,
  now: number,
): void {
  const row = db
    .prepare("SELECT id, state, x_audience_id FROM downstreams WHERE audience_id = ? AND configuration_id = ? AND identity_type = ? AND state <> 'deleting'")
    .get(audienceId, configurationId, type) as { id: number; state: string; x_audience_id: string | null } | undefined;
  if (on && !row) {
    const id = db
      .prepare("INSERT INTO downstreams (audience_id, configuration_id, identity_type, state, created_at, updated_at) VALUES (?, ?, ?, 'creating', ?, ?)")
      .run(audienceId, configurationId, type, now, now).lastInsertRowid as number;
    ledger.resync(id, audienceId, type, now);
  } else if (on && row?.state === 'detached') {
    db.prepare('UPDATE downstreams SET state = ?, next_attempt_at = 0, updated_at = ? WHERE id = ?').run(
      row.x_audience_id ? 'active' : 'creating',
      now,
      row.id,
    );
    ledger.resync(row.id, audienceId, type, now);
  } else if (!on && row && row.state !== 'detached') {
    detach(db, row.id, now);
  }
}

/**
 * A detached downstream audience stays on X as it is; its pending changes are dropped, but for
 * those of suppressed hashes X may hold: they stay, as removes (the claim sends a detached X
 * audience nothing else), so detaching never leaves an opted-out person on X (docs/privacy.md).
 * An add turned into a remove loses its claim, so a batch in flight leaves the remove pending.
 */
function detach(db: Database.Database, downstreamId: number, now: number): void {
  db.prepare(
    `DELETE FROM outbox WHERE downstream_id = @id AND NOT (
       EXISTS (SELECT 1 FROM x_members x WHERE x.downstream_id = outbox.downstream_id AND x.hash = outbox.hash)
       AND EXISTS (SELECT 1 FROM downstreams d JOIN suppressions s ON s.identity_type = d.identity_type AND s.hash = outbox.hash WHERE d.id = @id))`,
  ).run({ id: downstreamId });
  db.prepare("UPDATE outbox SET op = 'remove', claim_token = NULL WHERE downstream_id = ? AND op = 'add'").run(downstreamId);
  db.prepare("UPDATE downstreams SET state = 'detached', updated_at = ? WHERE id = ?").run(now, downstreamId);
}

export function listConnections(db: Database.Database, audienceId: string): Connection[] {
  return (prepared(db, 'SELECT * FROM connections WHERE audience_id = ? ORDER BY created_at').all(audienceId) as ConnectionRow[]).map(toConnection);
}

export function deleteConnection(db: Database.Database, audienceId: string, configurationId: string, now: number): boolean {
  const deleted = db.prepare('DELETE FROM connections WHERE audience_id = ? AND configuration_id = ?').run(audienceId, configurationId).changes > 0;
  if (!deleted) return false;
  const ids = db
    .prepare("SELECT id FROM downstreams WHERE audience_id = ? AND configuration_id = ? AND state NOT IN ('deleting', 'detached')")
    .pluck()
    .all(audienceId, configurationId) as number[];
  for (const id of ids) detach(db, id, now);
  return true;
}

/**
 * A resync of the connection's X audiences that exist on X (cadence.ts): each hash X confirmed
 * until now goes again. Asking again while one runs starts it over from now.
 */
export function requestResync(db: Database.Database, audienceId: string, configurationId: string, now: number): number | null {
  if (!db.prepare('SELECT 1 FROM connections WHERE audience_id = ? AND configuration_id = ?').get(audienceId, configurationId)) return null;
  return db
    .prepare(
      `UPDATE downstreams SET resync_before = ?, resync_cursor = NULL, resync_sent = 0, resync_total = members, next_attempt_at = MIN(next_attempt_at, ?), updated_at = ?
       WHERE audience_id = ? AND configuration_id = ? AND state IN ('active', 'creating', 'recreating') AND x_audience_id IS NOT NULL`,
    )
    .run(now, now, now, audienceId, configurationId).changes;
}
