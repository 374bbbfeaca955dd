import { randomUUID } from 'node:crypto';
import type { AuditActor, Erasure, ErasureInput, HashedIdentity, PrivacySnapshot, SuppressionResult } from '../port.ts';
import { auditEntry, erasureCompleted } from '../audit-entries.ts';
import { recordAudit } from './audit.ts';
import { hashBytes, hashHex, holdsIdentity, identitiesOf, identityBytes, memberKeyBytes, memberKeyText } from '../binary.ts';
import { FORWARDING_STATES } from '../states.ts';
import type { Reader, Sql } from './db.ts';
import { applyMemberChanges } from './ledger.ts';
import { lockPrivacy } from './locks.ts';
import { WAKE_CHANNEL } from './wake.ts';

/*
 * The suppression list and erasures on PostgreSQL (docs/privacy.md), each in the caller's
 * transaction (Db.tx). Locks, in the global order of locks.ts:
 * - an erasure removes members audience by audience, in audience id order, through the ledger's
 *   own applyMemberChanges (the audience's advisory lock SHARED, member rows, hash_holders rows,
 *   then the outbox);
 * - suppressing writes outbox rows (level 4) by (downstream_id, hash) order, for every downstream
 *   audience whose X ledger holds the hash or that has a change of it pending. An ingest racing
 *   it may still queue an add of the hash after it: the claim turns such an add into a remove
 *   (claim.ts), so no interleaving sends a suppressed hash to X;
 * - suppressions and erasures rows last (level 5, one row each), then settlePrivacy's lock (level 7).
 * An erasure spanning several audiences cannot keep the global order whole: after one audience's
 * removal it holds that audience's row (level 6) and outbox rows while it takes the next
 * audience's lock and, at the end, more outbox rows. A concurrent ingest can then deadlock with
 * it; PostgreSQL picks a victim and Db.tx runs that transaction again from the start (erasures are
 * rare and short), so both still happen whole.
 * Hashes are looked up across audiences by joining from the small tables (audiences,
 * downstreams) into the big ones' keys (hash_holders, x_members, outbox).
 */

interface ErasureRow {
  id: string;
  source: 'api' | 'firehose';
  state: 'pending' | 'done';
  received_at: number;
  completed_at: number | null;
  members_erased: number;
  x_audiences: number;
}

const toErasure = (r: ErasureRow): Erasure => ({
  id: r.id,
  source: r.source,
  state: r.state,
  receivedAt: r.received_at,
  completedAt: r.completed_at,
  membersErased: r.members_erased,
  xAudiences: r.x_audiences,
});

/** Namespace of the per-request erasure lock ('TAL' 0x02), taken before any other lock. */
const ERASURE_LOCK_SPACE = 0x54414c02;

const cols = (ids: HashedIdentity[]): [string[], Buffer[]] => [ids.map((i) => i.type), ids.map((i) => hashBytes(i.hash))];

export async function suppressedAmong(c: Reader, ids: HashedIdentity[]): Promise<HashedIdentity[]> {
  if (ids.length === 0) return [];
  const r = await c.query<{ type: HashedIdentity['type']; hash: Buffer }>(
    `SELECT s.identity_type AS type, s.hash FROM suppressions s JOIN unnest($1::text[], $2::bytea[]) AS u(t, x) ON s.identity_type = u.t AND s.hash = u.x`,
    cols(ids),
  );
  return r.rows.map((row) => ({ type: row.type, hash: hashHex(row.hash) }));
}

export async function suppress(c: Sql, add: HashedIdentity[], lift: HashedIdentity[], now: number): Promise<SuppressionResult> {
  const result: SuppressionResult = { added: 0, lifted: 0, queued: 0 };
  const sorted = (ids: HashedIdentity[]): HashedIdentity[] =>
    [...ids].sort((a, b) => (a.type === b.type ? (a.hash < b.hash ? -1 : 1) : a.type < b.type ? -1 : 1));
  if (add.length > 0) {
    const inserted = await c.query<{ identity_type: string; hash: Buffer }>(
      `INSERT INTO suppressions (identity_type, hash, created_at, settled_at)
       SELECT u.t, u.x, $3, NULL FROM unnest($1::text[], $2::bytea[]) AS u(t, x) ORDER BY u.t COLLATE "C", u.x
       ON CONFLICT DO NOTHING RETURNING identity_type, hash`,
      [...cols(sorted(add)), now],
    );
    result.added = inserted.rowCount ?? 0;
    if (result.added > 0) {
      const q = await c.query(
        `INSERT INTO outbox (downstream_id, hash, op, enqueued_at, claim_token)
         SELECT d.id, u.x, 'remove', $3, NULL FROM unnest($1::text[], $2::bytea[]) AS u(t, x)
         JOIN downstreams d ON d.identity_type = u.t AND d.state <> 'deleting'
         WHERE EXISTS (SELECT 1 FROM x_members x WHERE x.downstream_id = d.id AND x.hash = u.x)
            OR EXISTS (SELECT 1 FROM outbox o WHERE o.downstream_id = d.id AND o.hash = u.x)
         ORDER BY d.id, u.x
         ON CONFLICT (downstream_id, hash) DO UPDATE SET op = 'remove', claim_token = NULL`,
        [inserted.rows.map((r) => r.identity_type), inserted.rows.map((r) => r.hash), now],
      );
      result.queued += q.rowCount ?? 0;
    }
  }
  if (lift.length > 0) {
    const deleted = await c.query<{ identity_type: string; hash: Buffer }>(
      `DELETE FROM suppressions s USING unnest($1::text[], $2::bytea[]) AS u(t, x) WHERE s.identity_type = u.t AND s.hash = u.x RETURNING s.identity_type, s.hash`,
      cols(sorted(lift)),
    );
    result.lifted = deleted.rowCount ?? 0;
    if (result.lifted > 0) {
      // Wherever the ledger still holds it (hash_holders), an add; the claim drops it where X has it confirmed.
      const q = await c.query(
        `INSERT INTO outbox (downstream_id, hash, op, enqueued_at, claim_token)
         SELECT d.id, u.x, 'add', $3, NULL FROM unnest($1::text[], $2::bytea[]) AS u(t, x)
         JOIN downstreams d ON d.identity_type = u.t AND d.state IN ${FORWARDING_STATES}
         WHERE EXISTS (SELECT 1 FROM hash_holders h WHERE h.audience_id = d.audience_id AND h.identity_type = u.t AND h.hash = u.x)
         ORDER BY d.id, u.x
         ON CONFLICT (downstream_id, hash) DO UPDATE SET op = 'add', claim_token = NULL`,
        [deleted.rows.map((r) => r.identity_type), deleted.rows.map((r) => r.hash), now],
      );
      result.queued += q.rowCount ?? 0;
    }
  }
  if (result.queued > 0) await c.query('SELECT pg_notify($1, $2)', [WAKE_CHANNEL, 'changes']);
  return result;
}

export async function erase(c: Sql, input: ErasureInput, now: number): Promise<{ erasure: Erasure; created: boolean }> {
  // Two erasures of one request at once: the second waits here for the first's commit, then finds it.
  await c.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [ERASURE_LOCK_SPACE, input.requestKey]);
  const existing = await c.query<ErasureRow>('SELECT * FROM erasures WHERE request_key = $1', [input.requestKey]);
  if (existing.rows[0]) return { erasure: toErasure(existing.rows[0]), created: false };

  // The members holding an identity (0019: a member's identities are one value): in each audience
  // whose holder count has it, a scan of that audience's members for its 33 bytes, kept only where
  // they fall on an identity's boundary (holdsIdentity). Erasures are rare; ingest needs no index by hash.
  const byIdentity = await c.query<{ audience_id: string; member_key: Buffer; identities: Buffer; t: HashedIdentity['type']; x: Buffer }>(
    `SELECT m.audience_id, m.member_key, m.identities, u.t, u.x FROM unnest($1::text[], $2::bytea[], $3::bytea[]) AS u(t, x, needle)
     JOIN hash_holders h ON h.identity_type = u.t AND h.hash = u.x
     JOIN members m ON m.audience_id = h.audience_id AND position(u.needle IN m.identities) > 0`,
    [...cols(input.identities), input.identities.map(identityBytes)],
  );
  const byKey = await c.query<{ audience_id: string; member_key: Buffer }>(
    'SELECT m.audience_id, m.member_key FROM audiences a JOIN members m ON m.audience_id = a.id AND m.member_key = ANY($1::bytea[])',
    [input.memberKeys.map(memberKeyBytes)],
  );
  const found = [...byIdentity.rows.filter((r) => holdsIdentity(r.identities, { type: r.t, hash: hashHex(r.x) })), ...byKey.rows];
  const byAudience = new Map<string, string[]>();
  for (const r of found) {
    const keys = byAudience.get(r.audience_id) ?? [];
    const key = memberKeyText(r.member_key);
    if (!keys.includes(key)) keys.push(key);
    byAudience.set(r.audience_id, keys);
  }
  const identities = new Map<string, HashedIdentity>();
  const keep = (id: HashedIdentity): void => void identities.set(`${id.type}\n${id.hash}`, id);
  input.identities.forEach(keep);
  for (const audienceId of [...byAudience.keys()].sort()) {
    const keys = byAudience.get(audienceId)!;
    const held = await c.query<{ identities: Buffer }>('SELECT identities FROM members WHERE audience_id = $1 AND member_key = ANY($2::bytea[])', [
      audienceId,
      keys.map(memberKeyBytes),
    ]);
    for (const r of held.rows) identitiesOf(r.identities).forEach(keep);
    await applyMemberChanges(
      c,
      audienceId,
      keys.map((memberKey) => ({ memberKey, action: 'remove' as const, identities: [] })),
      now,
    );
  }
  const all = [...identities.values()];
  const targets = await c.query<{ n: number }>(
    `SELECT count(DISTINCT d.id)::int AS n FROM unnest($1::text[], $2::bytea[]) AS u(t, x)
     JOIN downstreams d ON d.identity_type = u.t AND d.state <> 'deleting'
     WHERE EXISTS (SELECT 1 FROM x_members x WHERE x.downstream_id = d.id AND x.hash = u.x)
        OR EXISTS (SELECT 1 FROM outbox o WHERE o.downstream_id = d.id AND o.hash = u.x)`,
    cols(all),
  );
  await suppress(c, all, [], now);
  const id = randomUUID();
  await c.query(
    `INSERT INTO erasures (id, request_key, source, state, received_at, completed_at, members_erased, x_audiences) VALUES ($1, $2, $3, 'pending', $4, NULL, $5, $6)`,
    [id, input.requestKey, input.source, now, [...byAudience.values()].reduce((n, keys) => n + keys.length, 0), targets.rows[0]?.n ?? 0],
  );
  await c.query(
    'INSERT INTO erasure_hashes (erasure_id, identity_type, hash) SELECT $1, u.t, u.x FROM unnest($2::text[], $3::bytea[]) AS u(t, x) ON CONFLICT DO NOTHING',
    [id, ...cols(all)],
  );
  return { erasure: (await getErasure(c, id))!, created: true };
}

export async function getErasure(c: Reader, id: string): Promise<Erasure | null> {
  const r = await c.query<ErasureRow>('SELECT * FROM erasures WHERE id = $1', [id]);
  return r.rows[0] ? toErasure(r.rows[0]) : null;
}

export async function listErasures(c: Reader, limit: number): Promise<Erasure[]> {
  const r = await c.query<ErasureRow>(
    `(SELECT * FROM erasures WHERE state = 'pending' ORDER BY received_at, id LIMIT $1)
     UNION ALL (SELECT * FROM erasures WHERE state = 'done' ORDER BY completed_at DESC, id LIMIT $1)`,
    [limit],
  );
  return r.rows.slice(0, limit).map(toErasure);
}

/**
 * As on SQLite: settled once no X ledger holds the hash and no change of it is pending, in the
 * transaction of the write that made it so; an erasure's completion is audited by `actor`. Under
 * the privacy lock (locks.ts says why), taken only while something is outstanding (an erasure
 * whose hashes were all lifted is done without any suppression pending).
 */
export async function settlePrivacy(c: Sql, now: number, actor: AuditActor): Promise<void> {
  const open = await c.query<{ open: boolean }>(
    "SELECT EXISTS (SELECT 1 FROM suppressions WHERE settled_at IS NULL) OR EXISTS (SELECT 1 FROM erasures WHERE state = 'pending') AS open",
  );
  if (!open.rows[0]!.open) return;
  await lockPrivacy(c);
  await c.query(
    `UPDATE suppressions s SET settled_at = $1 WHERE s.settled_at IS NULL AND NOT EXISTS (
       SELECT 1 FROM downstreams d WHERE d.identity_type = s.identity_type
         AND (EXISTS (SELECT 1 FROM x_members x WHERE x.downstream_id = d.id AND x.hash = s.hash)
              OR EXISTS (SELECT 1 FROM outbox o WHERE o.downstream_id = d.id AND o.hash = s.hash)))`,
    [now],
  );
  const done = await c.query<{ id: string }>(
    `UPDATE erasures e SET state = 'done', completed_at = $1 WHERE e.state = 'pending' AND NOT EXISTS (
       SELECT 1 FROM erasure_hashes h JOIN suppressions s ON s.identity_type = h.identity_type AND s.hash = h.hash
       WHERE h.erasure_id = e.id AND s.settled_at IS NULL) RETURNING e.id`,
    [now],
  );
  for (const id of done.rows.map((r) => r.id).sort()) await recordAudit(c, auditEntry(actor, erasureCompleted(id)), now);
}

export async function privacySnapshot(c: Reader): Promise<PrivacySnapshot> {
  const e = await c.query<{ n: number; oldest: number | null }>("SELECT count(*)::int AS n, MIN(received_at) AS oldest FROM erasures WHERE state = 'pending'");
  const s = await c.query<{ n: number; oldest: number | null }>(
    'SELECT count(*)::int AS n, MIN(created_at) AS oldest FROM suppressions WHERE settled_at IS NULL',
  );
  const pending = s.rows[0]!.n;
  const blocking =
    pending === 0
      ? []
      : (
          await c.query<{ configurationId: string; name: string }>(
            `SELECT c.id AS "configurationId", c.name FROM configurations c WHERE c.state <> 'active' AND EXISTS (
               SELECT 1 FROM downstreams d JOIN suppressions s ON s.identity_type = d.identity_type AND s.settled_at IS NULL
               WHERE d.configuration_id = c.id
                 AND (EXISTS (SELECT 1 FROM x_members x WHERE x.downstream_id = d.id AND x.hash = s.hash)
                      OR EXISTS (SELECT 1 FROM outbox o WHERE o.downstream_id = d.id AND o.hash = s.hash)))
             ORDER BY c.name, c.id`,
          )
        ).rows;
  return {
    pendingErasures: e.rows[0]!.n,
    oldestPendingErasureAt: e.rows[0]!.oldest,
    pendingSuppressions: pending,
    oldestPendingSuppressionAt: s.rows[0]!.oldest,
    reauthBlocking: blocking,
  };
}
