import type Database from 'better-sqlite3';
import { identityKey, type Identity } from '../../membership/diff.ts';
import { previewChanges } from '../../membership/preview.ts';
import type { LedgerPreview, MemberChange } from '../port.ts';
import { hashBytes, identitiesOf, memberKeyBytes } from '../binary.ts';

/*
 * A dry run's reads (membership/preview.ts applies the ledger's rule to them): plain reads outside
 * any transaction, each a seek on a primary key (members, hash_holders). Nothing is written, and no write lock is
 * taken: a dry run is a view, and an ingest committing meanwhile may make it one commit old.
 */
export function previewMemberChanges(db: Database.Database, audienceId: string, changes: MemberChange[]): Promise<LedgerPreview> {
  const byMember = db.prepare('SELECT identities FROM members WHERE audience_id = ? AND member_key = ?').pluck();
  const holders = db.prepare('SELECT holders FROM hash_holders WHERE audience_id = ? AND identity_type = ? AND hash = ?').pluck();
  return previewChanges(changes, {
    heldBy: (keys) =>
      new Map(
        keys.map((k) => {
          const stored = byMember.get(audienceId, memberKeyBytes(k)) as Buffer | undefined;
          return [k, stored === undefined ? [] : identitiesOf(stored)];
        }),
      ),
    holders: (ids: Identity[]) =>
      new Map(ids.map((id) => [identityKey(id), (holders.get(audienceId, id.type, hashBytes(id.hash)) as number | undefined) ?? 0])),
  });
}
