import type { Sql } from './db.ts';

/*
 * The lock order every PostgreSQL transaction of Tailor follows. Taking locks in one global order
 * is what makes deadlocks impossible by construction (Db.tx still retries a deadlock victim, as a
 * safety net):
 *
 *   1. the audience's advisory lock (below), shared or exclusive;
 *   2. downstream rows, by id;
 *   3. ledger rows of one audience: members by member_key (inserted or locked first, written
 *      again only under that lock), then hash_holders by (identity_type, hash);
 *   4. outbox rows, by (downstream_id, hash); x_members rows of one downstream;
 *   5. rejections by reason; samples, errors, rate buckets (one row each);
 *   6. last, the audience's own row when ingest moves its maintained member_count (ledger.ts).
 *      Every ingest that adds or drops a member takes it, so nothing is locked after it and it
 *      is held only until the commit. (putAudience locks that row alone; the structural changes
 *      take it after the exclusive advisory lock, so they never wait for it holding less.)
 *   7. the privacy lock (lockPrivacy below), taken by settlePrivacy as the last statement but one
 *      of a transaction. Its holders wait for nothing after it, so waiting for it holding any
 *      of the above closes no circle.
 *
 * Claims never wait at all: they take downstream rows and outbox rows with SKIP LOCKED.
 */

/** Namespace of Tailor's per-audience advisory locks ('TAL' 0x01): the two-int4 key form, so it never meets MIGRATION_LOCK. */
const AUDIENCE_LOCK_SPACE = 0x54414c01;

/**
 * Why a per-audience advisory lock in two modes, plus row locks:
 *
 * Ingest (applyMemberChanges) takes it SHARED: any number of ingest transactions of one audience
 * run at once, from any process, and are made exact by row locks (a member's row in
 * members, a hash's row in hash_holders; see ledger.ts). A per-audience EXCLUSIVE lock for
 * ingest would also be exact, but it would serialize every write to a popular audience (the
 * Firehose sends many small messages to the same one) behind one commit at a time.
 *
 * Changes to an audience's structure take it EXCLUSIVE: toggling a Forward setting (which detaches
 * a downstream audience or re-queues the difference from the ledger), deleting a connection or the
 * audience, and refilling a downstream audience that X lost. Each of those reads the whole ledger of
 * the audience, or the set of downstream audiences ingest writes to, and must not interleave with
 * an ingest that has decided its transitions on what it read.
 *
 * Transaction-level (xact) locks: released by COMMIT or ROLLBACK, never leaked by a dying process.
 */
export async function lockAudience(c: Sql, audienceId: string, mode: 'shared' | 'exclusive'): Promise<void> {
  const fn = mode === 'shared' ? 'pg_advisory_xact_lock_shared' : 'pg_advisory_xact_lock';
  await c.query(`SELECT ${fn}($1, hashtext($2))`, [AUDIENCE_LOCK_SPACE, audienceId]);
}

/** The privacy lock's key ('TAL' 0x03, one key), in its own namespace like the audience locks. */
const PRIVACY_LOCK = [0x54414c03, 0] as const;

/**
 * Why settlePrivacy serializes (step 7): under READ COMMITTED, two settles that each remove one of
 * the last two X holders of a suppressed hash would each still see the other's row and neither
 * would mark it settled, so an erasure's `completed_at` would wait for some later write. Holding
 * this lock to the commit, the second settle's check starts after the first committed and sees
 * both removals. Taken only while some suppression is unsettled: otherwise settles never meet here.
 */
export async function lockPrivacy(c: Sql): Promise<void> {
  await c.query('SELECT pg_advisory_xact_lock($1, $2)', [...PRIVACY_LOCK]);
}

export interface LockedDownstream {
  id: number;
  state: string;
  x_audience_id: string | null;
  create_attempt_name: string | null;
  configuration_id: string;
  identity_type: string;
}

/**
 * Structural changes of one audience start the same way: its advisory lock EXCLUSIVE (no ingest
 * in flight), then its downstream rows in id order (no settle in flight), steps 1 and 2 above.
 */
export async function lockStructure(c: Sql, audienceId: string, where = '', params: unknown[] = []): Promise<LockedDownstream[]> {
  await lockAudience(c, audienceId, 'exclusive');
  const r = await c.query<LockedDownstream>(
    `SELECT id, state, x_audience_id, create_attempt_name, configuration_id, identity_type FROM downstreams WHERE audience_id = $1 ${where} ORDER BY id FOR UPDATE`,
    [audienceId, ...params],
  );
  return r.rows;
}
