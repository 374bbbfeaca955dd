import { IDENTITY_TYPES } from '../../core/terms.ts';
import type { Connection, ConnectionSettings } from '../port.ts';
import { toConnection, type ConnectionRow } from '../rows.ts';
import { toggleFor } from '../toggles.ts';
import type { Reader, Sql } from './db.ts';
import { resync } from './ledger.ts';
import { lockStructure } from './locks.ts';
import { NOTIFY_STRUCTURE } from './wake.ts';

/*
 * Connections and the downstream audiences they switch on and off: structural changes, so they
 * take the audience's advisory lock EXCLUSIVE and its downstream rows by id first (locks.ts). No
 * ingest runs meanwhile, so a new downstream audience's resync (ledger.ts) misses no member.
 * Both writes run in the caller's transaction (index.ts).
 */

export async function putConnection(
  c: Sql,
  audienceId: string,
  configurationId: string,
  toggles: ConnectionSettings,
  now: number,
): Promise<{ connection: Connection; previous: Connection | null }> {
  const downs = await lockStructure(c, audienceId, "AND configuration_id = $2 AND state <> 'deleting'", [configurationId]);
  // Under the audience's exclusive lock no other write of this connection runs: what it was before.
  const before = await c.query<ConnectionRow>('SELECT * FROM connections WHERE audience_id = $1 AND configuration_id = $2', [audienceId, configurationId]);
  const upserted = await c.query<ConnectionRow & { inserted: boolean }>(
    `INSERT INTO connections AS k (audience_id, configuration_id, forward_emails, forward_handles, forward_device_ids, forward_phone_numbers, send_interval_minutes, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, CASE WHEN $8 THEN $9::integer END, $7, $7)
     ON CONFLICT (audience_id, configuration_id) DO UPDATE SET forward_emails = excluded.forward_emails,
       forward_handles = excluded.forward_handles, forward_device_ids = excluded.forward_device_ids,
       forward_phone_numbers = excluded.forward_phone_numbers, updated_at = excluded.updated_at,
       send_interval_minutes = CASE WHEN $8 THEN excluded.send_interval_minutes ELSE k.send_interval_minutes END
     RETURNING k.*, (xmax = 0) AS inserted`,
    [
      audienceId,
      configurationId,
      toggles.forwardEmails,
      toggles.forwardTwitterHandles,
      toggles.forwardDeviceIds,
      toggles.forwardPhoneNumbers,
      now,
      toggles.sendIntervalMinutes !== undefined,
      toggles.sendIntervalMinutes ?? null,
    ],
  );
  for (const type of IDENTITY_TYPES) {
    const row = downs.find((d) => d.identity_type === type);
    const on = toggleFor(toggles, type);
    if (on && !row) {
      const created = await c.query<{ id: number }>(
        "INSERT INTO downstreams (audience_id, configuration_id, identity_type, state, created_at, updated_at) VALUES ($1, $2, $3, 'creating', $4, $4) RETURNING id",
        [audienceId, configurationId, type, now],
      );
      await resync(c, created.rows[0]!.id, audienceId, type, now);
    } else if (on && row?.state === 'detached') {
      await c.query('UPDATE downstreams SET state = $2, next_attempt_at = 0, updated_at = $3 WHERE id = $1', [
        row.id,
        row.x_audience_id ? 'active' : 'creating',
        now,
      ]);
      await resync(c, row.id, audienceId, type, now);
    } else if (!on && row && row.state !== 'detached') {
      await detach(c, [row.id], now);
    }
  }
  // The connection's cadence, carried by its X audiences for the claim (migration 0014).
  await c.query(
    `UPDATE downstreams d SET send_interval_ms = k.send_interval_minutes * 60000 FROM connections k
     WHERE k.audience_id = d.audience_id AND k.configuration_id = d.configuration_id AND d.audience_id = $1 AND d.configuration_id = $2 AND d.state <> 'deleting'`,
    [audienceId, configurationId],
  );
  await c.query(NOTIFY_STRUCTURE);
  const k = upserted.rows[0]!;
  return { connection: toConnection(k), previous: before.rows[0] ? toConnection(before.rows[0]) : null };
}

/**
 * A detached downstream audience stays on X as it is; its pending changes are dropped, but for
 * those of suppressed hashes X may hold: they stay, as removes (the claim sends a detached X
 * audience nothing else), so detaching never leaves an opted-out person on X (docs/privacy.md).
 * An add turned into a remove loses its claim, so a batch in flight leaves the remove pending.
 */
async function detach(c: Sql, ids: number[], now: number): Promise<void> {
  if (ids.length === 0) return;
  await c.query(
    `DELETE FROM outbox o WHERE o.downstream_id = ANY($1::bigint[]) AND NOT (
       EXISTS (SELECT 1 FROM x_members x WHERE x.downstream_id = o.downstream_id AND x.hash = o.hash)
       AND EXISTS (SELECT 1 FROM downstreams d JOIN suppressions s ON s.identity_type = d.identity_type AND s.hash = o.hash WHERE d.id = o.downstream_id))`,
    [ids],
  );
  await c.query("UPDATE outbox SET op = 'remove', claim_token = NULL WHERE downstream_id = ANY($1::bigint[]) AND op = 'add'", [ids]);
  await c.query("UPDATE downstreams SET state = 'detached', updated_at = $2 WHERE id = ANY($1::bigint[])", [ids, now]);
}

export async function listConnections(c: Reader, audienceId: string): Promise<Connection[]> {
  return (await c.query<ConnectionRow>('SELECT * FROM connections WHERE audience_id = $1 ORDER BY created_at', [audienceId])).rows.map(toConnection);
}

export async function deleteConnection(c: Sql, audienceId: string, configurationId: string, now: number): Promise<boolean> {
  const downs = await lockStructure(c, audienceId, "AND configuration_id = $2 AND state NOT IN ('deleting', 'detached')", [configurationId]);
  const deleted = await c.query('DELETE FROM connections WHERE audience_id = $1 AND configuration_id = $2', [audienceId, configurationId]);
  if ((deleted.rowCount ?? 0) === 0) return false;
  await detach(
    c,
    downs.map((d) => d.id),
    now,
  );
  return true;
}

/**
 * A resync of the connection's X audiences that exist on X (cadence.ts): each hash X confirmed
 * until now goes again. Takes the downstream rows' locks by id (locks.ts), as a structural change.
 */
export async function requestResync(c: Sql, audienceId: string, configurationId: string, now: number): Promise<number | null> {
  const downs = await lockStructure(c, audienceId, "AND configuration_id = $2 AND state <> 'deleting'", [configurationId]);
  const k = await c.query('SELECT 1 FROM connections WHERE audience_id = $1 AND configuration_id = $2', [audienceId, configurationId]);
  if (k.rows.length === 0) return null;
  const ids = downs.map((d) => d.id);
  const r = await c.query(
    `UPDATE downstreams SET resync_before = $2, resync_cursor = NULL, resync_sent = 0, resync_total = members, next_attempt_at = LEAST(next_attempt_at, $2), updated_at = $2
     WHERE id = ANY($1::bigint[]) AND state IN ('active', 'creating', 'recreating') AND x_audience_id IS NOT NULL`,
    [ids, now],
  );
  await c.query(NOTIFY_STRUCTURE);
  return r.rowCount ?? 0;
}
