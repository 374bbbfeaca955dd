/**
 * The audience ledger as rows of (audience, identity type, hash, member key), whatever layout
 * stored it: one row per identity (before migration 0019), or one row per member with its
 * identities in one value (since 0019, src/store/binary.ts). Hashes and member keys come back as
 * the port spells them; text columns (before 0009) pass through.
 */
import { hashHex, identitiesOf, memberKeyText } from '../../src/store/binary.ts';

export interface LedgerRow {
  audience_id: string;
  identity_type: string;
  hash: string;
  member_key: string;
}

const text = (v: unknown): string => (typeof v === 'string' ? v : hashHex(v as Buffer));
const key = (v: unknown): string => (typeof v === 'string' ? v : memberKeyText(v as Buffer));

export function ledgerRows(rows: Record<string, unknown>[]): LedgerRow[] {
  return rows.flatMap((r) =>
    'identities' in r
      ? identitiesOf(r.identities as Buffer).map((id) => ({
          audience_id: String(r.audience_id),
          identity_type: id.type,
          hash: id.hash,
          member_key: key(r.member_key),
        }))
      : [{ audience_id: String(r.audience_id), identity_type: String(r.identity_type), hash: text(r.hash), member_key: key(r.member_key) }],
  );
}
