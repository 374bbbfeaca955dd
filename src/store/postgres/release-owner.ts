import type { Reader, Sql } from './db.ts';
import { RELEASE } from './lease.ts';
import { NOTIFY_STRUCTURE } from './wake.ts';

/*
 * Giving back every lease of one worker process known to be dead: its claimed outbox rows become
 * pending again and its downstream audiences claimable at once, without waiting for the leases to
 * expire. releaseOwner runs in the caller's transaction and follows the lock order (locks.ts).
 */

export async function leaseOwners(c: Reader): Promise<string[]> {
  const r = await c.query<{ lease_owner: string }>('SELECT DISTINCT lease_owner FROM downstreams WHERE lease_token IS NOT NULL AND lease_owner IS NOT NULL');
  return r.rows.map((row) => row.lease_owner);
}

export async function releaseOwner(c: Sql, owner: string): Promise<number> {
  // Lock order (locks.ts): the downstream rows, then their claimed outbox rows, each sorted.
  const ids = (
    await c.query<{ id: number }>('SELECT id FROM downstreams WHERE lease_owner = $1 AND lease_token IS NOT NULL ORDER BY id FOR UPDATE', [owner])
  ).rows.map((r) => r.id);
  if (ids.length === 0) return 0;
  await c.query('SELECT 1 FROM outbox WHERE downstream_id = ANY($1::bigint[]) AND claim_token IS NOT NULL ORDER BY downstream_id, hash FOR UPDATE', [ids]);
  await c.query('UPDATE outbox SET claim_token = NULL WHERE downstream_id = ANY($1::bigint[]) AND claim_token IS NOT NULL', [ids]);
  await c.query(`UPDATE downstreams SET ${RELEASE} WHERE id = ANY($1::bigint[])`, [ids]);
  // Their work is free again: idle workers of every process look now (worker.ts sleeps until woken).
  await c.query(NOTIFY_STRUCTURE);
  return ids.length;
}
