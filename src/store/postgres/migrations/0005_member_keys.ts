/**
 * 0005, the code half (after 0005_member_count.sql, in its transaction): every member key becomes
 * its namespaced, keyed form (src/membership/member-key.ts); legacy keys are classified by
 * src/store/legacy-member-key.ts, which says what can and cannot be told apart.
 * The one ambiguity: the ledger never recorded which source wrote a key, so a key is taken for an
 * mpid when both its audience id and itself have mParticle's forms (integer audience id, signed
 * 64-bit integer key) and for a user id otherwise; a REST/import audience with an integer id and
 * integer user ids is therefore converted as if fed by mParticle (docs/architecture.md, "Member keys").
 *
 * The new keys are computed in TypeScript (they need TAILOR_SECRET_KEY, which the database never
 * sees), so the old -> new map is built first in a temporary table, reading the ledger in key
 * order a page at a time (constant memory), and only then applied to members and audience_members
 * with one UPDATE each: updating while paging would meet converted keys again. The conversion is
 * one-to-one, so no two members merge and member_count stays right; it is recounted anyway.
 * Runs under the migration advisory lock, before any process of this version serves.
 */
import type pg from 'pg';
import { LEGACY_IDENTITY_KEY_SQL, convertLegacyKey } from '../../legacy-member-key.ts';
import { missingMemberKeySecret } from '../../missing-key.ts';
import type { OpenOptions } from '../../open-options.ts';

/** Members read per page: a few MB of keys, one round trip per page. */
const PAGE = 10_000;

export async function convertMemberKeys(c: pg.PoolClient, opts: OpenOptions): Promise<void> {
  const needed = await c.query('SELECT 1 FROM audience_members WHERE member_key !~ $1 LIMIT 1', [LEGACY_IDENTITY_KEY_SQL]);
  const strays = await c.query('SELECT 1 FROM members WHERE member_key !~ $1 LIMIT 1', [LEGACY_IDENTITY_KEY_SQL]);
  if (needed.rowCount === 0 && strays.rowCount === 0) return;
  const memberKey = opts.memberKey;
  if (!memberKey) throw missingMemberKeySecret();

  await c.query(
    'CREATE TEMPORARY TABLE member_key_map (audience_id text COLLATE "C", old_key text COLLATE "C", new_key text COLLATE "C", PRIMARY KEY (audience_id, old_key)) ON COMMIT DROP',
  );
  // Every key of the ledger: members is the record, audience_members should hold the same keys.
  for (const table of ['members', 'audience_members']) {
    let after: [string, string] | null = null;
    for (;;) {
      const page: pg.QueryResult<{ audience_id: string; member_key: string }> = await c.query(
        `SELECT DISTINCT audience_id, member_key FROM ${table}
         WHERE member_key !~ $1 ${after ? 'AND (audience_id, member_key) > ($3, $4)' : ''}
         ORDER BY audience_id, member_key LIMIT $2`,
        after ? [LEGACY_IDENTITY_KEY_SQL, PAGE, after[0], after[1]] : [LEGACY_IDENTITY_KEY_SQL, PAGE],
      );
      if (page.rows.length === 0) break;
      await c.query(
        `INSERT INTO member_key_map (audience_id, old_key, new_key)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[]) ON CONFLICT DO NOTHING`,
        [
          page.rows.map((r) => r.audience_id),
          page.rows.map((r) => r.member_key),
          page.rows.map((r) => convertLegacyKey(r.audience_id, r.member_key, memberKey)),
        ],
      );
      const last = page.rows[page.rows.length - 1]!;
      after = [last.audience_id, last.member_key];
    }
  }
  await c.query('UPDATE members m SET member_key = k.new_key FROM member_key_map k WHERE m.audience_id = k.audience_id AND m.member_key = k.old_key');
  await c.query('UPDATE audience_members m SET member_key = k.new_key FROM member_key_map k WHERE m.audience_id = k.audience_id AND m.member_key = k.old_key');
  await c.query('UPDATE audiences a SET member_count = (SELECT count(*) FROM audience_members m WHERE m.audience_id = a.id)');
}
