import type { IdentityType } from '../../core/terms.ts';
import { identityKey, type Identity } from '../../membership/diff.ts';
import { previewChanges } from '../../membership/preview.ts';
import type { LedgerPreview, MemberChange } from '../port.ts';
import type { Reader } from './db.ts';
import { hashBytes, hashHex, identitiesOf, memberKeyBytes, memberKeyText } from '../binary.ts';

/*
 * A dry run's reads (membership/preview.ts applies the ledger's rule to them): each member's
 * identities by the members primary key, each hash's holder count from hash_holders, in set-based
 * reads. No locks and nothing written: a dry run is a view, and an ingest committing meanwhile
 * may make it one commit old.
 */
export async function previewMemberChanges(c: Reader, audienceId: string, changes: MemberChange[]): Promise<LedgerPreview> {
  return previewChanges(changes, {
    heldBy: async (keys) => {
      const r = await c.query<{ member_key: Buffer; identities: Buffer }>(
        'SELECT member_key, identities FROM members WHERE audience_id = $1 AND member_key = ANY($2::bytea[])',
        [audienceId, keys.map(memberKeyBytes)],
      );
      return new Map<string, Identity[]>(r.rows.map((row) => [memberKeyText(row.member_key), identitiesOf(row.identities)]));
    },
    holders: async (ids) => {
      const r = await c.query<{ type: IdentityType; hash: Buffer; holders: number }>(
        `SELECT h.identity_type AS type, h.hash, h.holders FROM hash_holders h
         JOIN unnest($2::text[], $3::bytea[]) AS q(t, hh) ON h.identity_type = q.t AND h.hash = q.hh WHERE h.audience_id = $1`,
        [audienceId, ids.map((i) => i.type), ids.map((i) => hashBytes(i.hash))],
      );
      return new Map(r.rows.map((row) => [identityKey({ type: row.type, hash: hashHex(row.hash) }), row.holders]));
    },
  });
}
