import type { ChangeOp, IdentityType } from '../../core/terms.ts';
import { diffMember, holderDeltas, holderTransition, identityKey, lastChangeWins, type Identity, type MemberDiff } from '../../membership/diff.ts';
import type { ApplyResult, MemberChange } from '../port.ts';
import { hashBytes, hashHex, identitiesBytes, identitiesOf, memberKeyBytes, memberKeyText } from '../binary.ts';
import { FORWARDING_STATES } from '../states.ts';
import type { Sql } from './db.ts';
import { lockAudience } from './locks.ts';
import { WAKE_CHANNEL } from './wake.ts';

/**
 * The membership ledger on PostgreSQL, set-based: one statement per step whatever the number of
 * members, so a 100,000-member request is a handful of round trips.
 *
 * The rule is membership/diff.ts, as on SQLite: the batch's targets (lastChangeWins), each
 * member's diff (diffMember), each hash's net holder change (holderDeltas) and its transition
 * (holderTransition) are computed by it in memory, between the statements that read and write.
 * One step stays in SQL: the fan-out of transitions to the forwarding downstream audiences
 * (outboxChanges on SQLite) is the JOIN of the outbox INSERT below. Doing it in memory would need
 * the downstream audiences read first, one more round trip per ingest batch, for a join the
 * INSERT does anyway; the JOIN is outboxChanges' rule (one change per transition and forwarding
 * downstream audience of its type) and the store contract tests hold both to it.
 *
 * Exactness under concurrency (two processes ingesting into one audience at once):
 * - The audience's advisory lock is taken SHARED (locks.ts): ingest transactions run side by side,
 *   structural changes wait for them.
 * - Every member of the batch has its `members` row (one per member since 0019) inserted or
 *   locked, sorted by key: the row lock makes two transactions that change the same member take
 *   turns, and the second reads the member's identities only after the first committed (READ
 *   COMMITTED: each statement sees the latest commits). Without it, two concurrent "add" of one member with different identities would both
 *   diff against the same old set and leave both identities behind.
 * - Each hash whose holder count changes gets its `hash_holders` row upserted with the delta,
 *   sorted by (type, hash). ON CONFLICT DO UPDATE waits for the row lock and then applies the delta
 *   to the latest committed count, so the 0 -> n transition (queue an add) and n -> 0 (queue a
 *   remove) are decided one transaction at a time per hash: when one transaction adds the first
 *   holder of a hash while another removes its last holder, the second to lock sees the first's
 *   result, and its outbox write (after the first's commit) is the last, as it must be.
 * - Within one batch, only each member's last change counts (an add sets the member's identities,
 *   a remove clears them), and only a hash's net transition is queued: add -> remove -> add of a new
 *   hash queues one add, add -> remove queues nothing. That is the coalescing the outbox does anyway.
 * All sorts follow locks.ts, so concurrent ingests cannot deadlock.
 */
export async function applyMemberChanges(
  c: Sql,
  audienceId: string,
  changes: MemberChange[],
  now: number,
  rejections: Record<string, number> = {},
): Promise<ApplyResult> {
  await lockAudience(c, audienceId, 'shared');
  // Deleted since the caller looked it up (deleteAudience waits for the lock we now hold): nothing to write.
  if ((await c.query('SELECT 1 FROM audiences WHERE id = $1', [audienceId])).rowCount === 0) return { queued: 0 };

  // Each member's final identities in this batch: the last change wins.
  const target = lastChangeWins(changes);

  let queued = 0;
  let memberDelta = 0;
  if (target.size > 0) ({ queued, memberDelta } = await applyTargets(c, audienceId, target, now));

  const reasons = Object.entries(rejections).filter(([, n]) => n > 0);
  if (reasons.length > 0) {
    await c.query(
      `INSERT INTO rejections AS r (audience_id, reason, count, last_at)
       SELECT $1, u.reason, u.n, $2 FROM unnest($3::text[], $4::bigint[]) AS u(reason, n) ORDER BY u.reason COLLATE "C"
       ON CONFLICT (audience_id, reason) DO UPDATE SET count = r.count + excluded.count, last_at = excluded.last_at`,
      [audienceId, now, reasons.map(([r]) => r), reasons.map(([, n]) => n)],
    );
  }
  // The maintained member count, last of all (locks.ts): the audience's row is the one row every
  // ingest of the audience that adds or drops a member updates, so it is locked only from here to
  // the commit. The delta is exact: it was decided on member sets read under their members' locks.
  if (memberDelta !== 0) await c.query('UPDATE audiences SET member_count = member_count + $2 WHERE id = $1', [audienceId, memberDelta]);
  // Delivered at commit, once per transaction whatever the number of calls: idle workers look now.
  if (queued > 0) await c.query('SELECT pg_notify($1, $2)', [WAKE_CHANNEL, 'changes']);
  return { queued };
}

async function applyTargets(c: Sql, audienceId: string, target: Map<string, Identity[]>, now: number): Promise<{ queued: number; memberDelta: number }> {
  // Hashes and member keys are bytes on disk (binary.ts, bytea[] parameters), hex in the rule.
  const keys = [...target.keys()];
  const keyBytes = new Map(keys.map((k) => [k, memberKeyBytes(k)] as const));
  // 1. Lock every member of the batch, in key order, by its `members` row (0019: one row per
  //    member). A new member's row is inserted with its target identities, so it is written once;
  //    an existing member's row is locked, not written (DO UPDATE ... WHERE false locks the
  //    conflicting row and returns nothing). A member whose target is empty and who did not exist
  //    gets an empty row, deleted again in step 5.
  const inserted = await c.query<{ member_key: Buffer }>(
    `INSERT INTO members AS m (audience_id, member_key, identities)
     SELECT $1, u.k, u.i FROM unnest($2::bytea[], $3::bytea[]) AS u(k, i) ORDER BY u.k
     ON CONFLICT (audience_id, member_key) DO UPDATE SET identities = m.identities WHERE false
     RETURNING m.member_key`,
    [audienceId, keys.map((k) => keyBytes.get(k)!), keys.map((k) => identitiesBytes(target.get(k)!))],
  );
  const isNew = new Set(inserted.rows.map((r) => memberKeyText(r.member_key)));

  // 2. What the existing ones hold, read under their locks (each statement sees the latest commits).
  const existing = keys.filter((k) => !isNew.has(k));
  const oldByMember = new Map<string, Identity[]>();
  if (existing.length > 0) {
    const old = await c.query<{ member_key: Buffer; identities: Buffer }>(
      'SELECT member_key, identities FROM members WHERE audience_id = $1 AND member_key = ANY($2::bytea[])',
      [audienceId, existing.map((k) => keyBytes.get(k)!)],
    );
    for (const r of old.rows) oldByMember.set(memberKeyText(r.member_key), identitiesOf(r.identities));
  }

  // 3. The diff (membership/diff.ts), and each hash's net change in holders.
  const diffs: MemberDiff[] = [];
  const update = { k: [] as Buffer[], i: [] as Buffer[] };
  const emptied: Buffer[] = [];
  let memberDelta = 0;
  for (const [member, ids] of target) {
    const diff = diffMember(oldByMember.get(member) ?? [], ids);
    diffs.push(diff);
    memberDelta += diff.memberDelta;
    const key = keyBytes.get(member)!;
    if (ids.length === 0) emptied.push(key);
    else if (!isNew.has(member) && (diff.insert.length > 0 || diff.remove.length > 0)) {
      update.k.push(key);
      update.i.push(identitiesBytes(ids));
    }
  }
  const delta = holderDeltas(diffs);

  // 4. Holder counts, row-locked in (type, hash) order; the transitions follow from old and new counts.
  const changed = [...delta.values()];
  const out = { t: [] as string[], x: [] as Buffer[], o: [] as ChangeOp[] };
  if (changed.length > 0) {
    const counts = await c.query<{ identity_type: IdentityType; hash: Buffer; holders: number }>(
      `INSERT INTO hash_holders AS h (audience_id, identity_type, hash, holders)
       SELECT $1, u.t, u.x, u.d FROM unnest($2::text[], $3::bytea[], $4::int[]) AS u(t, x, d) ORDER BY u.t COLLATE "C", u.x
       ON CONFLICT (audience_id, identity_type, hash) DO UPDATE SET holders = h.holders + excluded.holders
       RETURNING identity_type, hash, holders`,
      [audienceId, changed.map((e) => e.id.type), changed.map((e) => hashBytes(e.id.hash)), changed.map((e) => e.delta)],
    );
    const zero = { t: [] as string[], x: [] as Buffer[] };
    for (const r of counts.rows) {
      const after = r.holders;
      const before = after - (delta.get(identityKey({ type: r.identity_type, hash: hashHex(r.hash) }))?.delta ?? 0);
      // The count covers exactly the members rows, which are read under their members' locks.
      if (after < 0 || before < 0) throw new Error(`ledger out of step: hash holders ${before} -> ${after} in audience ${audienceId}`);
      const op = holderTransition(before, after);
      if (op) {
        out.t.push(r.identity_type);
        out.x.push(r.hash);
        out.o.push(op);
      }
      if (after === 0) {
        zero.t.push(r.identity_type);
        zero.x.push(r.hash);
      }
    }
    if (zero.t.length > 0) {
      await c.query(
        `DELETE FROM hash_holders h USING unnest($2::text[], $3::bytea[]) AS u(t, x)
         WHERE h.audience_id = $1 AND h.identity_type = u.t AND h.hash = u.x AND h.holders = 0`,
        [audienceId, zero.t, zero.x],
      );
    }
  }

  // 5. The audience ledger itself (rows only this transaction may touch: their members are locked).
  //    New members were written in step 1.
  if (update.k.length > 0) {
    await c.query(
      `UPDATE members m SET identities = u.i FROM unnest($2::bytea[], $3::bytea[]) AS u(k, i)
       WHERE m.audience_id = $1 AND m.member_key = u.k`,
      [audienceId, update.k, update.i],
    );
  }
  if (emptied.length > 0) {
    await c.query('DELETE FROM members WHERE audience_id = $1 AND member_key = ANY($2::bytea[])', [audienceId, emptied]);
  }

  // 6. One change per transition and forwarding downstream audience of its type (outboxChanges' rule
  //    as a JOIN: see the comment at the top), in (downstream, hash) order. Last state wins and a
  //    newer change clears the claim, as on SQLite; the first enqueue time is kept.
  if (out.t.length === 0) return { queued: 0, memberDelta };
  const queued = await c.query(
    `INSERT INTO outbox (downstream_id, hash, op, enqueued_at, claim_token)
     SELECT d.id, u.x, u.o, $2, NULL FROM unnest($3::text[], $4::bytea[], $5::text[]) AS u(t, x, o)
     JOIN downstreams d ON d.audience_id = $1 AND d.identity_type = u.t AND d.state IN ${FORWARDING_STATES}
     ORDER BY d.id, u.x
     ON CONFLICT (downstream_id, hash) DO UPDATE SET op = excluded.op, claim_token = NULL`,
    [audienceId, now, out.t, out.x, out.o],
  );
  return { queued: queued.rowCount ?? 0, memberDelta };
}

/**
 * Brings a downstream audience's outbox to the exact difference between the audience ledger and
 * the X ledger (adds for hashes members hold that X has not confirmed, removes for hashes X may
 * hold that no member does). Runs under the audience's exclusive lock and the downstream's row lock.
 */
export async function resync(c: Sql, downstreamId: number, audienceId: string, type: string, now: number): Promise<void> {
  await c.query(
    `INSERT INTO outbox (downstream_id, hash, op, enqueued_at, claim_token)
     SELECT $1, h.hash, 'add', $2, NULL FROM hash_holders h
     WHERE h.audience_id = $3 AND h.identity_type = $4
       AND NOT EXISTS (SELECT 1 FROM x_members x WHERE x.downstream_id = $1 AND x.hash = h.hash AND x.confirmed)
     ORDER BY h.hash
     ON CONFLICT (downstream_id, hash) DO UPDATE SET op = 'add', claim_token = NULL`,
    [downstreamId, now, audienceId, type],
  );
  await c.query(
    `INSERT INTO outbox (downstream_id, hash, op, enqueued_at, claim_token)
     SELECT $1, x.hash, 'remove', $2, NULL FROM x_members x
     WHERE x.downstream_id = $1
       AND NOT EXISTS (SELECT 1 FROM hash_holders h WHERE h.audience_id = $3 AND h.identity_type = $4 AND h.hash = x.hash)
     ORDER BY x.hash
     ON CONFLICT (downstream_id, hash) DO UPDATE SET op = 'remove', claim_token = NULL`,
    [downstreamId, now, audienceId, type],
  );
}
