import type Database from 'better-sqlite3';
import type { IdentityType } from '../../core/terms.ts';
import { identityKey, type Identity } from '../../membership/diff.ts';
import { previewChanges } from '../../membership/preview.ts';
import type { LedgerPreview, MemberChange } from '../port.ts';

/*
 * A dry run's reads (membership/preview.ts applies the ledger's rule to them): plain reads outside
 * any transaction, each a seek on members' indexes. Nothing is written, and no write lock is
 * taken: a dry run is a view, and an ingest committing meanwhile may make it one commit old.
 */
export function previewMemberChanges(db: Database.Database, audienceId: string, changes: MemberChange[]): Promise<LedgerPreview> {
  const byMember = db.prepare('SELECT identity_type AS type, hash FROM members WHERE audience_id = ? AND member_key = ?');
  const holders = db.prepare('SELECT COUNT(*) FROM members WHERE audience_id = ? AND identity_type = ? AND hash = ?').pluck();
  return previewChanges(changes, {
    heldBy: (keys) => new Map(keys.map((k) => [k, byMember.all(audienceId, k) as { type: IdentityType; hash: string }[]])),
    holders: (ids: Identity[]) => new Map(ids.map((id) => [identityKey(id), holders.get(audienceId, id.type, id.hash) as number])),
  });
}
