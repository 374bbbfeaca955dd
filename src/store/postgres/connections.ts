import { IDENTITY_TYPES } from '../../core/terms.ts';
import type { Connection, ConnectionToggles } from '../port.ts';
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
  toggles: ConnectionToggles,
  now: number,
): Promise<{ connection: Connection; created: boolean }> {
  const downs = await lockStructure(c, audienceId, "AND configuration_id = $2 AND state <> 'deleting'", [configurationId]);
  const upserted = await c.query<ConnectionRow & { inserted: boolean }>(
    `INSERT INTO connections AS k (audience_id, configuration_id, forward_emails, forward_handles, forward_device_ids, forward_phone_numbers, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $7)
     ON CONFLICT (audience_id, configuration_id) DO UPDATE SET forward_emails = excluded.forward_emails,
       forward_handles = excluded.forward_handles, forward_device_ids = excluded.forward_device_ids,
       forward_phone_numbers = excluded.forward_phone_numbers, updated_at = excluded.updated_at
     RETURNING k.*, (xmax = 0) AS inserted`,
    [audienceId, configurationId, toggles.forwardEmails, toggles.forwardTwitterHandles, toggles.forwardDeviceIds, toggles.forwardPhoneNumbers, now],
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
  await c.query(NOTIFY_STRUCTURE);
  const k = upserted.rows[0]!;
  return { connection: toConnection(k), created: k.inserted };
}

/** A detached downstream audience stays on X as it is; its pending changes are dropped. */
async function detach(c: Sql, ids: number[], now: number): Promise<void> {
  if (ids.length === 0) return;
  await c.query('DELETE FROM outbox WHERE downstream_id = ANY($1::bigint[])', [ids]);
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
