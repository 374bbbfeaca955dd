/**
 * 0005 (code, not SQL: the new keys need TAILOR_SECRET_KEY): every member key becomes its
 * namespaced, keyed form (src/membership/member-key.ts); the legacy keys are classified by
 * src/store/legacy-member-key.ts, which says what can and cannot be told apart.
 * The one ambiguity: the ledger never recorded which source wrote a key, so a key is taken for an
 * mpid when both its audience id and itself have mParticle's forms (integer audience id, signed
 * 64-bit integer key) and for a user id otherwise; a REST/import audience with an integer id and
 * integer user ids is therefore converted as if fed by mParticle (docs/architecture.md, "Member keys"). The conversion
 * is one-to-one, so no two members merge; member_count is recounted anyway, in the same
 * transaction, so it is exact whatever the file held.
 */
import type Database from 'better-sqlite3';
import { LEGACY_IDENTITY_KEY, convertLegacyKey } from '../../legacy-member-key.ts';
import { missingMemberKeySecret } from '../../missing-key.ts';
import type { OpenOptions } from '../../open-options.ts';
import { SCRUB_KEY } from '../scrub.ts';

export function convertMemberKeys(db: Database.Database, opts: OpenOptions): void {
  db.function('tailor_0005_legacy_identity', { deterministic: true }, (key: unknown) => (LEGACY_IDENTITY_KEY.test(String(key)) ? 1 : 0));
  const toConvert = db.prepare('SELECT EXISTS (SELECT 1 FROM members WHERE tailor_0005_legacy_identity(member_key) = 0)').pluck().get() === 1;
  if (toConvert) {
    const memberKey = opts.memberKey;
    if (!memberKey) throw missingMemberKeySecret();
    db.function('tailor_0005_member_key', { deterministic: true }, (audienceId: unknown, key: unknown) =>
      convertLegacyKey(String(audienceId), String(key), memberKey),
    );
    db.exec('UPDATE members SET member_key = tailor_0005_member_key(audience_id, member_key) WHERE tailor_0005_legacy_identity(member_key) = 0');
    // The raw values are still in the file's old cells and in the WAL: open.ts VACUUMs after this transaction.
    db.prepare("INSERT INTO meta (key, value) VALUES (?, '0005') ON CONFLICT (key) DO NOTHING").run(SCRUB_KEY);
  }
  db.exec('UPDATE audiences SET member_count = (SELECT COUNT(DISTINCT member_key) FROM members m WHERE m.audience_id = audiences.id)');
}
