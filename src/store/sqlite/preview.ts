import type Database from 'better-sqlite3';
import type { IdentityType } from '../../core/terms.ts';
import { identityKey, type Identity } from '../../membership/diff.ts';
import { previewChanges } from '../../membership/preview.ts';
import type { LedgerPreview, MemberChange } from '../port.ts';
import { hashBytes, hashHex, memberKeyBytes } from '../binary.ts';

/*
 * A dry run's reads (membership/preview.ts applies the ledger's rule to them): plain reads outside
 * any transaction, each a seek on members' indexes. Nothing is written, and no write lock is
 * taken: a dry run is a view, and an ingest committing meanwhile may make it one commit old.
 */
export function previewMemberChanges(db: Database.Database, audienceId: string, changes: MemberChange[]): Promise<LedgerPreview> {
  const byMember = db.prepare('SELECT identity_type AS type, hash FROM members WHERE audience_id = ? AND member_key = ?');
  const holders = db.prepare('SELECT COUNT(*) FROM members WHERE audience_id = ? AND identity_type = ? AND hash = ?').pluck();
  return previewChanges(changes, {
    heldBy: (keys) =>
      new Map(
        keys.map((k) => [
          k,
          (byMember.all(audienceId, memberKeyBytes(k)) as { type: IdentityType; hash: Buffer }[]).map((r) => ({ type: r.type, hash: hashHex(r.hash) })),
        ]),
      ),
    holders: (ids: Identity[]) => new Map(ids.map((id) => [identityKey(id), holders.get(audienceId, id.type, hashBytes(id.hash)) as number])),
  });
}
