import type Database from 'better-sqlite3';

/*
 * Giving back every lease of one worker process (it stopped, or was found dead): its claimed
 * outbox rows become pending again and its downstream audiences claimable at once, without
 * waiting for the leases to expire. In the caller's IMMEDIATE transaction.
 */

export function leaseOwners(db: Database.Database): string[] {
  return db.prepare('SELECT DISTINCT lease_owner FROM downstreams WHERE lease_token IS NOT NULL AND lease_owner IS NOT NULL').pluck().all() as string[];
}

export function releaseOwner(db: Database.Database, owner: string): number {
  const ids = db.prepare('SELECT id FROM downstreams WHERE lease_owner = ? AND lease_token IS NOT NULL').pluck().all(owner) as number[];
  for (const id of ids) {
    db.prepare('UPDATE outbox SET claim_token = NULL WHERE downstream_id = ?').run(id);
    db.prepare('UPDATE downstreams SET lease_token = NULL, lease_owner = NULL, lease_expires_at = NULL WHERE id = ?').run(id);
  }
  return ids.length;
}
